// Plans computed by hand. Sizes are multiples of the 256-byte alignment
// unless a test is about alignment, so slot arithmetic stays exact.

#include "passes/memory_planner.h"
#include "gtest/gtest.h"
#include "ir/text.h"
#include "passes/arena_placement.h"

namespace kiln::passes {
namespace {

struct Planned {
  ir::Graph graph;
  MemoryPlan plan;
  std::vector<std::string> notes;
};

Planned plan_text(std::string_view text, MemoryPlannerOptions options = {}) {
  Planned out;
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(text);
  EXPECT_TRUE(graph.ok()) << graph.status();
  if (!graph.ok()) return out;
  out.graph = *std::move(graph);
  absl::StatusOr<MemoryPlan> plan = plan_memory(out.graph, options, &out.notes);
  EXPECT_TRUE(plan.ok()) << plan.status();
  if (plan.ok()) out.plan = *std::move(plan);
  return out;
}

int64_t offset(const Planned& p, const std::string& name) { return p.plan.placements.at(name).offset; }

bool has_note(const Planned& p, std::string_view text) {
  for (const std::string& note : p.notes) {
    if (note.find(text) != std::string::npos) return true;
  }
  return false;
}

// Each value is 1024 bytes (f32[256]).
constexpr std::string_view kChain = R"(input %x : f32[256]
%a = relu(%x)
%b = relu(%a)
%c = relu(%b)
%d = relu(%c)
output %d
)";

TEST(MemoryPlannerTest, ChainWithoutInPlaceNeedsTwoSlots) {
  Planned p = plan_text(kChain, {.alignment = 256, .in_place = false});
  EXPECT_EQ(p.plan.arena_bytes, 2048);
  EXPECT_EQ(p.plan.lower_bound_bytes, 2048);
  // Neighbours are live together at the node that links them.
  for (auto [first, second] : {std::pair{"x", "a"}, {"a", "b"}, {"b", "c"}, {"c", "d"}}) {
    EXPECT_NE(offset(p, first), offset(p, second)) << first << " and " << second;
  }
  EXPECT_EQ(offset(p, "x"), offset(p, "b"));
  EXPECT_EQ(offset(p, "a"), offset(p, "c"));
}

TEST(MemoryPlannerTest, InPlaceChainUsesOneSlotBesidesTheInput) {
  Planned p = plan_text(kChain);
  EXPECT_EQ(offset(p, "a"), offset(p, "b"));
  EXPECT_EQ(offset(p, "b"), offset(p, "c"));
  EXPECT_EQ(offset(p, "c"), offset(p, "d"));
  EXPECT_NE(offset(p, "x"), offset(p, "a"));
  EXPECT_EQ(p.plan.arena_bytes, 2048);
  EXPECT_TRUE(has_note(p, "%a = relu: not in place over %x: %x is a graph input")) << p.notes[0];
  EXPECT_TRUE(has_note(p, "%d = relu: writes in place over %c"));
}

// x -> a -> {b, c} -> d
constexpr std::string_view kDiamond = R"(input %x : f32[256]
%a = relu(%x)
%b = silu(%a)
%c = gelu(%a)
%d = add(%b, %c)
output %d
)";

TEST(MemoryPlannerTest, DiamondWithoutInPlaceNeedsThreeSlots) {
  // At %c: a, b and c are live; at %d: b, c and d.
  Planned p = plan_text(kDiamond, {.alignment = 256, .in_place = false});
  EXPECT_EQ(p.plan.lower_bound_bytes, 3072);
  EXPECT_EQ(p.plan.arena_bytes, 3072);
}

TEST(MemoryPlannerTest, DiamondInPlaceWhereTheOperandDies) {
  Planned p = plan_text(kDiamond);
  // %b may not overwrite %a: %c still reads it. %c is %a's last reader; %d
  // is %b's.
  EXPECT_TRUE(has_note(p, "%b = silu: not in place over %a: %a (or a view of it) is read after this node"));
  EXPECT_EQ(offset(p, "c"), offset(p, "a"));
  EXPECT_EQ(offset(p, "d"), offset(p, "b"));
  EXPECT_NE(offset(p, "a"), offset(p, "b"));
  // {a, c} lives over [0, 3], {b, d} over [1, end], x over [start, 0]: x and
  // {b, d} share a slot.
  EXPECT_EQ(offset(p, "x"), offset(p, "b"));
  EXPECT_EQ(p.plan.arena_bytes, 2048);
  EXPECT_EQ(p.plan.lower_bound_bytes, 2048);
}

TEST(MemoryPlannerTest, GraphOutputLivesToTheEndAndIsNeverOverwritten) {
  Planned p = plan_text(R"(input %x : f32[256]
%a = relu(%x)
%b = relu(%a)
%c = relu(%b)
%e = relu(%c)
output %a, %e
)");
  EXPECT_TRUE(has_note(p, "%b = relu: not in place over %a: %a is a graph output"));
  for (const char* later : {"b", "c", "e"}) EXPECT_NE(offset(p, "a"), offset(p, later)) << later;
  EXPECT_EQ(offset(p, "b"), offset(p, "e"));  // in place from %b on
  EXPECT_EQ(p.plan.arena_bytes, 2048);        // x's slot is free again for %b
}

TEST(MemoryPlannerTest, StateHasItsOwnRegionAndIsNeverReused) {
  // Caches of 1024, 1024 and 320 bytes; the kv_write results are the caches.
  Planned p = plan_text(R"(symbol T <= 4
input %x : f32[T, 2, 8]
state %k_cache : f32[16, 2, 8]
state %v_cache : f32[16, 2, 8]
state %small : f32[5, 2, 8]
%k = kv_write(%k_cache, %x)
%v = kv_write(%v_cache, %x)
%s = kv_write(%small, %x)
%a = attention(%x, %k, %v)
output %a
)");
  const std::vector<std::pair<std::string, int64_t>> expected = {{"k_cache", 0}, {"k", 0},        {"v_cache", 1024},
                                                                 {"v", 1024},    {"small", 2048}, {"s", 2048}};
  for (const auto& [name, state_offset] : expected) {
    EXPECT_EQ(p.plan.placements.at(name).region, Region::state) << name;
    EXPECT_EQ(offset(p, name), state_offset) << name;
  }
  EXPECT_EQ(p.plan.state_bytes, 1024 + 1024 + 512);
  // Only %x (T = 4: 256 bytes) and %a, live together at the attention.
  EXPECT_EQ(p.plan.arena_bytes, 512);
  EXPECT_EQ(p.plan.lower_bound_bytes, 512);
}

TEST(MemoryPlannerTest, SymbolicDimsArePlannedAtTheirBound) {
  Planned p = plan_text("symbol T <= 7\ninput %x : f32[T, 10]\n%a = relu(%x)\noutput %a\n",
                        {.alignment = 256, .in_place = false});
  // 7 * 10 * 4 = 280 bytes each, in 512-byte slots.
  EXPECT_EQ(p.plan.lower_bound_bytes, 560);
  EXPECT_EQ(p.plan.arena_bytes, 1024);
  EXPECT_EQ(p.plan.placements.at("a").shape, (ir::Shape{ir::Dim::symbol("T"), ir::Dim(10)}));
}

TEST(MemoryPlannerTest, OffsetsFollowTheAlignment) {
  // 40-byte values with 64-byte alignment.
  Planned p = plan_text("input %x : f32[10]\n%a = relu(%x)\n%b = silu(%a)\n%c = add(%a, %b)\noutput %c\n",
                        {.alignment = 64, .in_place = false});
  for (const auto& [name, ref] : p.plan.placements) EXPECT_EQ(ref.offset % 64, 0) << name;
  EXPECT_EQ(p.plan.alignment, 64);
  EXPECT_EQ(p.plan.arena_bytes, 3 * 64);
}

TEST(MemoryPlannerTest, AlignmentMustBeAPowerOfTwo) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph("input %x : f32[4]\noutput %x\n");
  ASSERT_TRUE(graph.ok());
  absl::StatusOr<MemoryPlan> plan = plan_memory(*graph, {.alignment = 100, .in_place = true});
  EXPECT_NE(plan.status().message().find("alignment 100 is not a power of two"), std::string_view::npos)
      << plan.status();
}

TEST(MemoryPlannerTest, WeightsAreNumberedInTableOrderAndViewsKeepTheirOwnShape) {
  Planned p = plan_text(R"(input %x : f32[4, 8]
weight %w0 : f32[8, 8]
weight %w1 : f32[64]
%w1m = reshape(%w1) {shape = [8, 8]}
%h = matmul(%x, %w0)
%y = matmul(%h, %w1m)
output %y
)");
  EXPECT_EQ(p.plan.placements.at("w0").region, Region::weight);
  EXPECT_EQ(p.plan.placements.at("w0").weight, 0);
  EXPECT_EQ(p.plan.placements.at("w1").weight, 1);
  EXPECT_EQ(p.plan.placements.at("w1m").region, Region::weight);
  EXPECT_EQ(p.plan.placements.at("w1m").weight, 1);
  EXPECT_EQ(p.plan.placements.at("w1m").shape, (ir::Shape{ir::Dim(8), ir::Dim(8)}));
}

TEST(MemoryPlannerTest, ViewsShareStorageAndNeverLetItBeOverwritten) {
  Planned p = plan_text(R"(input %x : f32[256]
%r = reshape(%x) {shape = [16, 16]}
%y = relu(%r)
%a = silu(%y)
%v = reshape(%a) {shape = [256]}
%b = relu(%a)
output %v, %b
)");
  EXPECT_EQ(offset(p, "r"), offset(p, "x"));
  EXPECT_EQ(offset(p, "v"), offset(p, "a"));
  EXPECT_TRUE(has_note(p, "%y = relu: not in place over %r: %r shares storage with graph input %x"));
  EXPECT_TRUE(has_note(p, "%b = relu: not in place over %a: %a shares storage with graph output %v"));
  EXPECT_NE(offset(p, "b"), offset(p, "a"));
}

TEST(MemoryPlannerTest, ViewReadLaterKeepsItsStorageAlive) {
  Planned p = plan_text(R"(input %x : f32[256]
%a = relu(%x)
%v = reshape(%a) {shape = [16, 16]}
%b = silu(%a)
%c = relu(%v)
%d = add(%c, %c)
output %d, %b
)");
  EXPECT_TRUE(has_note(p, "%b = silu: not in place over %a: %a (or a view of it) is read after this node"));
  EXPECT_NE(offset(p, "b"), offset(p, "a"));
}

TEST(MemoryPlannerTest, OperandReadTwiceIsNotOverwritten) {
  Planned p = plan_text("input %x : f32[256]\n%a = relu(%x)\n%b = add(%a, %a)\noutput %b\n");
  EXPECT_TRUE(has_note(p, "%b = add: not in place over %a: %a's storage is also read as operand 1 (%a)"));
}

// The lifetimes of examples/llama_block.json after fusion. Largest first
// puts the 5632-byte FFN hidden state at 0, where the residual stream then
// cannot go, and needs 20480 bytes; placing the blocks of the busiest
// positions first meets the 16384-byte bound.
TEST(ArenaPlacementTest, ReachesTheBoundWhereLargestFirstAloneDoesNot) {
  const std::vector<LiveBlock> blocks = {
      {-1, 12, 4096},  // x
      {0, 1, 4096},    // h
      {1, 9, 4096},    // q
      {1, 7, 2048},    // k
      {1, 8, 2048},    // v
      {9, 11, 4096},   // attn
      {11, 12, 4096},  // attn_out
      {12, 16, 4096},  // h1, then y in place
      {12, 13, 4096},  // h1_norm
      {13, 14, 5632},  // ffn_hidden
      {14, 15, 4096},  // ffn_out
  };
  EXPECT_EQ(peak_live_bytes(blocks), 16384);
  const ArenaPlacement placement = place_in_arena(blocks, 256);
  EXPECT_EQ(placement.arena_bytes, 16384);
  for (size_t a = 0; a < blocks.size(); ++a) {
    for (size_t b = a + 1; b < blocks.size(); ++b) {
      const bool live_together = blocks[a].first <= blocks[b].last && blocks[b].first <= blocks[a].last;
      const bool overlap = placement.offsets[a] < placement.offsets[b] + blocks[b].bytes &&
                           placement.offsets[b] < placement.offsets[a] + blocks[a].bytes;
      EXPECT_FALSE(live_together && overlap) << a << " and " << b;
    }
  }
}

TEST(ArenaPlacementTest, NoBlocksNeedNoArena) {
  EXPECT_EQ(place_in_arena({}, 256).arena_bytes, 0);
  EXPECT_EQ(peak_live_bytes({}), 0);
}

}  // namespace
}  // namespace kiln::passes
