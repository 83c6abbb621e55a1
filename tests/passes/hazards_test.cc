// compute_hazards (passes/hazards.h): each dispatch's `after` list names the
// earlier dispatches it conflicts with (read after write, write after read,
// write after write) over arena and state bytes, less those already ordered
// through another entry of the list.

#include "passes/hazards.h"

#include "gtest/gtest.h"
#include "ir/text.h"
#include "passes/memory_planner.h"
#include "passes/scheduler.h"

namespace kiln::passes {
namespace {

using program::Dim;
using program::Dispatch;
using program::Program;
using program::Region;
using program::TensorRef;

// 256 bytes (f32[64]) at `offset` in `region`.
TensorRef block(int64_t offset, Region region = Region::arena) {
  return {region, offset, -1, program::DType::f32, {Dim::fixed(64)}};
}

Dispatch dispatch(std::string node, std::vector<TensorRef> inputs, std::vector<TensorRef> outputs) {
  Dispatch d;
  d.kernel = "k";
  d.node = std::move(node);
  d.inputs = std::move(inputs);
  d.outputs = std::move(outputs);
  return d;
}

Program with(std::vector<Dispatch> dispatches) {
  Program p;
  p.arena_bytes = 4096;
  p.state_bytes = 1024;
  p.weight_chunks = {256};
  p.weights = {{"w", program::DType::f32, {64}, 256, 0, 0, ""}};
  p.dispatches = std::move(dispatches);
  compute_hazards(p);
  return p;
}

using After = std::vector<int32_t>;

// a -> b -> c, where c also reads a: c conflicts with a and b, but a is
// ordered before b, so c waits for b only.
TEST(HazardsTest, AChainKeepsOnlyTheNearestDependency) {
  const Program p = with({dispatch("a", {block(0)}, {block(256)}),
                          dispatch("b", {block(256)}, {block(512)}),
                          dispatch("c", {block(256), block(512)}, {block(768)})});
  EXPECT_EQ(p.dispatches[0].after, After{});
  EXPECT_EQ(p.dispatches[1].after, After{0});
  EXPECT_EQ(p.dispatches[2].after, After{1});
}

// Both reorderings that must not happen: c overwrites what b still reads
// (write after read), and what a wrote (write after write, already ordered
// through b). c reads nothing anyone wrote.
TEST(HazardsTest, WriteAfterReadOrdersAReusedBuffer) {
  const Program p = with({dispatch("a", {block(0)}, {block(256)}),
                          dispatch("b", {block(256)}, {block(512)}),
                          dispatch("c", {block(0)}, {block(256)})});
  EXPECT_EQ(p.dispatches[2].after, After{1});
}

TEST(HazardsTest, WriteAfterWriteAlone) {
  const Program p = with({dispatch("a", {block(0)}, {block(256)}), dispatch("b", {block(0)}, {block(256)})});
  EXPECT_EQ(p.dispatches[1].after, After{0});
}

// Two independent conflicts are both kept.
TEST(HazardsTest, UnrelatedConflictsAreAllListed) {
  const Program p = with({dispatch("a", {block(0)}, {block(256)}),
                          dispatch("b", {block(0)}, {block(512)}),
                          dispatch("c", {block(256), block(512)}, {block(768)})});
  EXPECT_EQ(p.dispatches[1].after, After{});
  EXPECT_EQ(p.dispatches[2].after, (After{0, 1}));
}

// Reading the same bytes, or touching different ones, orders nothing; a
// weight is read-only and never a hazard.
TEST(HazardsTest, IndependentDispatchesHaveEmptyLists) {
  const TensorRef weight{Region::weight, 0, 0, program::DType::f32, {Dim::fixed(64)}};
  const Program p = with({dispatch("a", {block(0), weight}, {block(256)}),
                          dispatch("b", {block(0), weight}, {block(512)}),
                          dispatch("c", {weight}, {block(768)})});
  for (const Dispatch& d : p.dispatches) EXPECT_EQ(d.after, After{}) << d.node;
}

// The arena and the state are different memory even at equal offsets; the
// state orders its writer before its reader.
TEST(HazardsTest, RegionsAreSeparateAndStateCounts) {
  const Program p = with({dispatch("write", {block(0)}, {block(0, Region::state)}),
                          dispatch("other", {block(256)}, {block(512)}),
                          dispatch("read", {block(0, Region::state)}, {block(768)})});
  EXPECT_EQ(p.dispatches[1].after, After{});
  EXPECT_EQ(p.dispatches[2].after, After{0});
}

// Byte ranges, not offsets: a [T, 64] tensor at the slots' bounds overlaps
// a later one that starts inside it.
TEST(HazardsTest, RangesAreSizedAtTheSlotsBounds) {
  Program p;
  p.arena_bytes = 4096;
  p.slots = {{"T", 4, {}, 1, 0}};
  const TensorRef rows{Region::arena, 0, -1, program::DType::f32, {Dim::of_slot(0), Dim::fixed(64)}};  // 1024 bytes
  p.dispatches = {dispatch("a", {block(2048)}, {rows}), dispatch("b", {block(768)}, {block(3072)})};
  compute_hazards(p);
  EXPECT_EQ(p.dispatches[1].after, After{0});
}

// Recomputing replaces, rather than appends to, what a list held.
TEST(HazardsTest, RecomputingIsIdempotent) {
  Program p = with({dispatch("a", {block(0)}, {block(256)}), dispatch("b", {block(256)}, {block(512)})});
  compute_hazards(p);
  EXPECT_EQ(p.dispatches[1].after, After{0});
}

// Through the planner: %c reuses %a's bytes once %b has read them, so %c
// must wait for %b though it reads nothing %b wrote.
TEST(HazardsTest, APlannerReusedBufferIsAWriteAfterRead) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(R"(input %x : f32[1, 64]
weight %w : f32[64, 64]
%a = matmul(%x, %w)
%b = matmul(%a, %w)
%c = matmul(%x, %w)
output %b
output %c
)");
  ASSERT_TRUE(graph.ok()) << graph.status();
  absl::StatusOr<MemoryPlan> plan = plan_memory(*graph);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // The premise: %c took %a's place.
  ASSERT_EQ(plan->placements.at("c").offset, plan->placements.at("a").offset);
  ASSERT_NE(plan->placements.at("b").offset, plan->placements.at("a").offset);
  absl::StatusOr<Program> program = schedule_program(*graph, *plan, Target{});
  ASSERT_TRUE(program.ok()) << program.status();
  ASSERT_EQ(program->dispatches.size(), 3u);
  EXPECT_EQ(program->dispatches[0].after, After{});
  EXPECT_EQ(program->dispatches[1].after, After{0});
  EXPECT_EQ(program->dispatches[2].after, After{1});
}

}  // namespace
}  // namespace kiln::passes
