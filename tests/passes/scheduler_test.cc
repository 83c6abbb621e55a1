// schedule_program (passes/scheduler.h): the Program's slot table, each
// dispatch's constants, step parameters and launch domain, the weight
// chunks, all from small graphs in the text form.

#include "passes/scheduler.h"

#include <algorithm>

#include "gtest/gtest.h"
#include "ir/op_registry.h"
#include "ir/text.h"
#include "passes/memory_planner.h"

namespace kiln::passes {
namespace {

using program::Constant;
using program::Dim;
using program::Dispatch;
using program::Program;
using program::Region;
using program::Shape;

// A prefill step of one attention head group: rope, kv_write and attention
// read P, attention's kv_rows is P + T, and the slice of the last row of
// the symbolic axis T begins at T - 1.
constexpr std::string_view kGraph = R"(symbol P <= 64
symbol T <= 16
input %x : f32[T, 64]
weight %wq : f32[64, 64]
state %k_cache : f32[64, 4, 16]
%q = matmul(%x, %wq) : f32[T, 64]
%q3 = reshape(%q) {shape = [T, 4, 16]} : f32[T, 4, 16]
%r = rope(%q3) {rotary_dim = 16} : f32[T, 4, 16]
%k = kv_write(%k_cache, %r) : f32[64, 4, 16]
%a = attention(%r, %k, %k) : f32[T, 4, 16]
%last = slice(%a) {axis = 0, start = -1} : f32[1, 4, 16]
output %last
)";

struct Scheduled {
  ir::Graph graph;
  MemoryPlan plan;
  Program program;
};

absl::StatusOr<Program> try_schedule(std::string_view text, Scheduled& out, const Target& target = {}) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(text);
  if (!graph.ok()) return graph.status();
  out.graph = *std::move(graph);
  absl::StatusOr<MemoryPlan> plan = plan_memory(out.graph);
  if (!plan.ok()) return plan.status();
  out.plan = *plan;
  return schedule_program(out.graph, out.plan, target);
}

Scheduled schedule(std::string_view text, const Target& target = {}) {
  Scheduled out;
  absl::StatusOr<Program> program = try_schedule(text, out, target);
  EXPECT_TRUE(program.ok()) << program.status();
  if (program.ok()) out.program = *std::move(program);
  return out;
}

const Dispatch& find_dispatch(const Program& program, std::string_view kernel) {
  for (const Dispatch& d : program.dispatches) {
    if (d.kernel == kernel) return d;
  }
  ADD_FAILURE() << "no " << kernel << " dispatch";
  static const Dispatch kNone;
  return kNone;
}

// The slot a dispatch's step parameter reads, by name ("" when the
// parameter is not a step parameter).
std::string step_param(const Program& program, const Dispatch& d, std::string_view name) {
  for (const program::StepParam& param : d.step_params) {
    if (param.name == name) return program.slots.at(param.slot).name;
  }
  return "";
}

// A constant's value (integers and booleans), failing when it is absent.
int64_t constant(const Dispatch& d, std::string_view name) {
  const Constant* c = d.find_constant(name);
  if (c == nullptr) {
    ADD_FAILURE() << d.kernel << " has no constant '" << name << "'";
    return -1;
  }
  return c->integer;
}

std::vector<std::string> slot_names(const Program& program) {
  std::vector<std::string> names;
  for (const program::StepSlot& slot : program.slots) names.push_back(slot.name);
  return names;
}

// Shapes are compared as text: "[T, 4, 16]".
std::string shape_text(const Program& program, const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += shape[i].is_static() ? std::to_string(shape[i].value) : program.slots.at(shape[i].slot).name;
  }
  return out + "]";
}

// ---- Dispatches and memory --------------------------------------------------

TEST(SchedulerTest, OneDispatchPerKernelNoneForViews) {
  Scheduled s = schedule(kGraph);
  std::vector<std::string> kernels;
  for (const Dispatch& d : s.program.dispatches) kernels.push_back(d.kernel);
  EXPECT_EQ(kernels, (std::vector<std::string>{"matmul", "rope", "kv_write", "attention", "slice"}));
  for (const Dispatch& d : s.program.dispatches) EXPECT_EQ(d.variant, "") << d.kernel;
  EXPECT_EQ(s.program.dispatches[1].node, "r");
}

TEST(SchedulerTest, OffsetsComeFromThePlanAndViewsKeepTheirShape) {
  Scheduled s = schedule(kGraph);
  const Dispatch& matmul = s.program.dispatches[0];
  const Dispatch& rope = s.program.dispatches[1];
  EXPECT_EQ(matmul.inputs[0].offset, s.plan.placements.at("x").offset);
  EXPECT_EQ(matmul.inputs[1].region, Region::weight);
  EXPECT_EQ(matmul.inputs[1].weight, 0);
  EXPECT_EQ(matmul.outputs[0].offset, s.plan.placements.at("q").offset);
  // rope reads the reshape's storage, which is %q's, with the view's shape.
  EXPECT_EQ(rope.inputs[0].region, Region::arena);
  EXPECT_EQ(rope.inputs[0].offset, matmul.outputs[0].offset);
  EXPECT_EQ(shape_text(s.program, rope.inputs[0].shape), "[T, 4, 16]");
  EXPECT_EQ(rope.inputs[0].shape[0], Dim::of_slot(s.program.find_slot("T")));
  const Dispatch& kv_write = s.program.dispatches[2];
  EXPECT_EQ(kv_write.outputs[0].region, Region::state);
  EXPECT_EQ(kv_write.outputs[0].offset, s.program.states[0].ref.offset);
}

TEST(SchedulerTest, TablesAndSizesComeFromGraphAndPlan) {
  Scheduled s = schedule(kGraph);
  const Program& p = s.program;
  EXPECT_EQ(p.arena_bytes, s.plan.arena_bytes);
  EXPECT_EQ(p.arena_lower_bound_bytes, s.plan.lower_bound_bytes);
  EXPECT_EQ(p.state_bytes, 64 * 4 * 16 * 4);
  ASSERT_EQ(p.weights.size(), 1u);
  EXPECT_EQ(p.weights[0].name, "wq");
  EXPECT_EQ(p.weights[0].bytes, 64 * 64 * 4);
  EXPECT_EQ(p.weights[0].shape, (std::vector<int64_t>{64, 64}));
  ASSERT_EQ(p.inputs.size(), 1u);
  EXPECT_EQ(p.inputs[0].name, "x");
  EXPECT_EQ(shape_text(p, p.inputs[0].ref.shape), "[T, 64]");
  ASSERT_EQ(p.outputs.size(), 1u);
  EXPECT_EQ(p.outputs[0].name, "last");
  EXPECT_EQ(p.outputs[0].ref.offset, s.plan.placements.at("last").offset);
  ASSERT_EQ(p.states.size(), 1u);
  EXPECT_EQ(p.states[0].name, "k_cache");
}

TEST(SchedulerTest, MissingPlacementIsAnError) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph("input %x : f32[4]\n%y = relu(%x)\noutput %y\n");
  ASSERT_TRUE(graph.ok());
  MemoryPlan plan;
  absl::StatusOr<Program> program = schedule_program(*graph, plan, Target{});
  EXPECT_NE(std::string(program.status().message()).find("%x has no placement in the memory plan"),
            std::string::npos)
      << program.status();
}

// ---- Slots ------------------------------------------------------------------

// Given slots T then P (whatever their declaration order), then the
// derived slots in the order dispatches first need them.
TEST(SchedulerTest, SlotTableIsTThenPThenDerivedSums) {
  Scheduled s = schedule(kGraph);
  const Program& p = s.program;
  EXPECT_EQ(slot_names(p), (std::vector<std::string>{"T", "P", "P+T", "T-1"}));
  EXPECT_EQ(p.given_slots(), 2);
  ASSERT_EQ(p.slots.size(), 4u);
  EXPECT_EQ(p.slots[0], (program::StepSlot{"T", 16, {}, 1, 0}));
  EXPECT_EQ(p.slots[1], (program::StepSlot{"P", 64, {}, 1, 0}));
  // kv_rows = P + T, at most 64 + 16.
  const program::StepSlot& kv_rows = p.slots[2];
  EXPECT_EQ(kv_rows.bound, 80);
  std::vector<int32_t> terms = kv_rows.terms;
  std::sort(terms.begin(), terms.end());
  EXPECT_EQ(terms, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(kv_rows.scale, 1);
  EXPECT_EQ(kv_rows.bias, 0);
  // The slice's begin: T - 1 (the bound of T less one).
  EXPECT_EQ(p.slots[3], (program::StepSlot{"T-1", 15, {0}, 1, -1}));
}

TEST(SchedulerTest, StepParamsReadTheirSlots) {
  Scheduled s = schedule(kGraph);
  const Program& p = s.program;
  const Dispatch& attention = find_dispatch(p, "attention");
  EXPECT_EQ(step_param(p, attention, "rows"), "T");
  EXPECT_EQ(step_param(p, attention, "past"), "P");
  EXPECT_EQ(step_param(p, attention, "kv_rows"), "P+T");
  EXPECT_EQ(step_param(p, find_dispatch(p, "rope"), "past"), "P");
  EXPECT_EQ(step_param(p, find_dispatch(p, "kv_write"), "past"), "P");
  const Dispatch& slice = find_dispatch(p, "slice");
  EXPECT_EQ(step_param(p, slice, "begin"), "T-1");
  EXPECT_EQ(step_param(p, slice, "in_extent"), "T");
  EXPECT_EQ(constant(slice, "out_extent"), 1);
  EXPECT_EQ(constant(slice, "inner"), 64);
  // Sorted by name, as the Program's contract says.
  for (const Dispatch& d : p.dispatches) {
    EXPECT_TRUE(std::is_sorted(d.step_params.begin(), d.step_params.end(),
                               [](const auto& a, const auto& b) { return a.name < b.name; }))
        << d.kernel;
  }
}

TEST(SchedulerTest, DeclarationOrderDoesNotReorderGivenSlots) {
  Scheduled s = schedule(R"(symbol T <= 8
symbol P <= 32
input %x : f32[T, 2, 8]
%r = rope(%x) {rotary_dim = 8}
output %r
)");
  EXPECT_EQ(slot_names(s.program), (std::vector<std::string>{"T", "P"}));
  Scheduled reversed = schedule(R"(symbol P <= 32
symbol T <= 8
input %x : f32[T, 2, 8]
%r = rope(%x) {rotary_dim = 8}
output %r
)");
  EXPECT_EQ(slot_names(reversed.program), (std::vector<std::string>{"T", "P"}));
}

// rows of [T, 4, 16] are 4 * T: one slot scaling T, shared by every
// dispatch that needs it.
TEST(SchedulerTest, RowsOfSeveralDimsAreAScaledSlot) {
  Scheduled s = schedule(R"(symbol T <= 16
input %x : f32[T, 4, 16]
weight %g : f32[16]
%n = rmsnorm(%x, %g)
%m = rmsnorm(%n, %g)
output %m
)");
  const Program& p = s.program;
  EXPECT_EQ(slot_names(p), (std::vector<std::string>{"T", "4*T"}));
  ASSERT_EQ(p.slots.size(), 2u);
  EXPECT_EQ(p.slots[1], (program::StepSlot{"4*T", 64, {0}, 4, 0}));
  for (const Dispatch& d : p.dispatches) {
    EXPECT_EQ(step_param(p, d, "rows"), "4*T");
    EXPECT_EQ(constant(d, "cols"), 16);
    EXPECT_EQ(shape_text(p, d.launch), "[T, 4]");
  }
}

TEST(SchedulerTest, AnUndeclaredSymbolCountsAsZero) {
  Scheduled s = schedule(R"(symbol T <= 4
input %x : f32[T, 2, 8]
%r = rope(%x) {rotary_dim = 8}
output %r
)");
  const Program& p = s.program;
  EXPECT_EQ(slot_names(p), (std::vector<std::string>{"T"}));
  const Dispatch& rope = p.dispatches[0];
  EXPECT_EQ(step_param(p, rope, "past"), "");
  EXPECT_EQ(constant(rope, "past"), 0);
}

// ---- Constants and step parameters --------------------------------------

// Decode: one row, static, so rows is a constant; prefill: T rows, a step
// parameter, and no constant of the same name.
TEST(SchedulerTest, DecodeRowsAreAConstantPrefillRowsAStepParam) {
  const char* const kDecode = R"(symbol P <= 64
input %x : f32[1, 64]
weight %w : f32[64, 32]
%y = matmul(%x, %w)
output %y
)";
  const char* const kPrefill = R"(symbol P <= 64
symbol T <= 16
input %x : f32[T, 64]
weight %w : f32[64, 32]
%y = matmul(%x, %w)
output %y
)";
  Scheduled decode = schedule(kDecode);
  const Dispatch& d = decode.program.dispatches.at(0);
  EXPECT_EQ(constant(d, "rows"), 1);
  EXPECT_EQ(constant(d, "m"), 1);
  EXPECT_EQ(constant(d, "k"), 64);
  EXPECT_EQ(constant(d, "n"), 32);
  EXPECT_TRUE(d.step_params.empty());
  EXPECT_EQ(shape_text(decode.program, d.launch), "[1, 32]");

  Scheduled prefill = schedule(kPrefill);
  const Dispatch& p = prefill.program.dispatches.at(0);
  EXPECT_EQ(step_param(prefill.program, p, "rows"), "T");
  EXPECT_EQ(p.find_constant("rows"), nullptr);
  EXPECT_EQ(constant(p, "k"), 64);
  EXPECT_EQ(constant(p, "n"), 32);
  EXPECT_EQ(shape_text(prefill.program, p.launch), "[T, 32]");
}

// Every attribute is a constant, defaults filled in, typed; constants are
// sorted by name.
TEST(SchedulerTest, ConstantsAreCompleteWithDefaults) {
  Scheduled s = schedule(kGraph);
  const Dispatch& rope = find_dispatch(s.program, "rope");
  std::vector<std::string> names;
  for (const Constant& c : rope.constants) names.push_back(c.name);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (const char* attr : {"theta", "rotary_dim", "interleaved", "scaling_factor", "scaling_low_freq_factor",
                           "scaling_high_freq_factor", "scaling_original_context", "heads", "head_dim"}) {
    EXPECT_NE(rope.find_constant(attr), nullptr) << attr;
  }
  const Constant* theta = rope.find_constant("theta");
  ASSERT_NE(theta, nullptr);
  EXPECT_EQ(theta->type, Constant::Type::real);
  EXPECT_EQ(theta->real, 10000.0);
  const Constant* interleaved = rope.find_constant("interleaved");
  ASSERT_NE(interleaved, nullptr);
  EXPECT_EQ(interleaved->type, Constant::Type::boolean);
  EXPECT_EQ(interleaved->integer, 0);
  EXPECT_EQ(constant(rope, "rotary_dim"), 16);
  EXPECT_EQ(constant(rope, "heads"), 4);
  EXPECT_EQ(constant(rope, "head_dim"), 16);

  const Dispatch& attention = find_dispatch(s.program, "attention");
  const Constant* causal = attention.find_constant("causal");
  ASSERT_NE(causal, nullptr);
  EXPECT_EQ(causal->type, Constant::Type::boolean);
  EXPECT_EQ(causal->integer, 1);
  EXPECT_EQ(constant(attention, "kv_heads"), 4);
  EXPECT_EQ(constant(attention, "capacity"), 64);
  // No name is both a constant and a step parameter.
  for (const Dispatch& d : s.program.dispatches) {
    for (const program::StepParam& param : d.step_params) {
      EXPECT_EQ(d.find_constant(param.name), nullptr) << d.kernel << "." << param.name;
    }
  }
}

// Over a whole graph: every scalar attribute of every dispatched node's
// schema (bool, int, real, enumeration) is a constant of its dispatch.
TEST(SchedulerTest, EveryScalarAttributeOfEverySchemaIsAConstant) {
  Scheduled s = schedule(kGraph);
  for (const Dispatch& d : s.program.dispatches) {
    const ir::Value* value = s.graph.find_value(d.node);
    ASSERT_NE(value, nullptr) << d.node;
    for (const ir::AttrSpec& spec : value->producer()->def().attrs) {
      const bool scalar = spec.type == ir::AttrType::boolean || spec.type == ir::AttrType::integer ||
                          spec.type == ir::AttrType::real || spec.type == ir::AttrType::string;
      if (scalar) {
        EXPECT_NE(d.find_constant(spec.name), nullptr) << d.kernel << "." << spec.name;
      }
    }
  }
}

// An enumeration is the index of its name in the schema's list, with the
// name beside it: gelu's approximate ("none", "tanh"), a fused op's act
// ("silu", "gelu"), cast's dtype ("f32", "f16", "bf16", "i32").
TEST(SchedulerTest, EnumerationsCarryTheirIndexAndSymbol) {
  Scheduled s = schedule(R"(input %x : f32[4, 8]
weight %wg : f32[8, 16]
weight %wu : f32[8, 16]
%a = gelu(%x)
%b = gelu(%a) {approximate = "tanh"}
%c = cast(%b) {dtype = "f16"}
%d = fused_gate_up(%x, %wg, %wu) {act = "gelu"}
output %c
output %d
)");
  const std::vector<Dispatch>& d = s.program.dispatches;
  ASSERT_EQ(d.size(), 4u);
  const auto expect_enum = [](const Dispatch& dispatch, const char* name, int64_t index, const char* symbol) {
    const Constant* c = dispatch.find_constant(name);
    ASSERT_NE(c, nullptr) << dispatch.node << "." << name;
    EXPECT_EQ(c->type, Constant::Type::integer) << dispatch.node << "." << name;
    EXPECT_EQ(c->integer, index) << dispatch.node << "." << name;
    EXPECT_EQ(c->symbol, symbol) << dispatch.node << "." << name;
  };
  expect_enum(d[0], "approximate", 0, "none");  // the default
  expect_enum(d[1], "approximate", 1, "tanh");
  expect_enum(d[2], "dtype", 1, "f16");
  expect_enum(d[3], "act", 1, "gelu");
  expect_enum(d[3], "approximate", 0, "none");
  // A plain integer has no symbol.
  EXPECT_EQ(d[3].find_constant("k")->symbol, "");
}

// ---- Launch domains -----------------------------------------------------

// kv_write writes T rows at row P: its launch is those rows, not the cache
// it returns.
TEST(SchedulerTest, KvWriteLaunchesOverTheRowsWritten) {
  Scheduled s = schedule(kGraph);
  const Dispatch& kv_write = find_dispatch(s.program, "kv_write");
  EXPECT_EQ(shape_text(s.program, kv_write.launch), "[T, 4, 16]");
  EXPECT_EQ(shape_text(s.program, kv_write.outputs[0].shape), "[64, 4, 16]");
  EXPECT_EQ(step_param(s.program, kv_write, "rows"), "T");
  EXPECT_EQ(constant(kv_write, "capacity"), 64);
  EXPECT_EQ(constant(kv_write, "width"), 64);
}

TEST(SchedulerTest, LaunchDomainsFollowTheOp) {
  Scheduled s = schedule(kGraph);
  const Program& p = s.program;
  EXPECT_EQ(shape_text(p, find_dispatch(p, "matmul").launch), "[T, 64]");
  EXPECT_EQ(shape_text(p, find_dispatch(p, "rope").launch), "[T, 4, 8]");  // rotary pairs
  EXPECT_EQ(shape_text(p, find_dispatch(p, "attention").launch), "[T, 4]");  // query rows x heads
  EXPECT_EQ(shape_text(p, find_dispatch(p, "slice").launch), "[1, 4, 16]");
}

// matmul_qkv writes three results; its launch covers them side by side.
TEST(SchedulerTest, MatmulQkvLaunchCoversAllThreeProjections) {
  Scheduled s = schedule(R"(symbol T <= 16
input %x : f32[T, 64]
weight %wq : f32[64, 64]
weight %wk : f32[64, 32]
weight %wv : f32[64, 16]
%q, %k, %v = matmul_qkv(%x, %wq, %wk, %wv)
output %q
output %k
output %v
)");
  ASSERT_EQ(s.program.dispatches.size(), 1u);
  const Dispatch& qkv = s.program.dispatches[0];
  EXPECT_EQ(shape_text(s.program, qkv.launch), "[T, 112]");
  EXPECT_EQ(constant(qkv, "nq"), 64);
  EXPECT_EQ(constant(qkv, "nk"), 32);
  EXPECT_EQ(constant(qkv, "nv"), 16);
  EXPECT_EQ(qkv.outputs.size(), 3u);
}

// ---- Weight chunks ------------------------------------------------------

constexpr std::string_view kWeights = R"(input %x : f32[4]
weight %a : f32[10]
weight %b : f32[100]
weight %c : f32[128]
%y = add(%x, %x)
output %y
)";

TEST(SchedulerTest, WeightsArePackedAtAlignedOffsetsInOneChunk) {
  Scheduled s = schedule(kWeights);
  const Program& p = s.program;
  ASSERT_EQ(p.weights.size(), 3u);
  EXPECT_EQ(p.weight_chunks, (std::vector<int64_t>{768 + 512}));
  EXPECT_EQ(p.weights[0].offset, 0);
  EXPECT_EQ(p.weights[1].offset, 256);  // 40 bytes, aligned up
  EXPECT_EQ(p.weights[2].offset, 768);  // 256 + 400, aligned up
  for (const program::WeightEntry& w : p.weights) EXPECT_EQ(w.chunk, 0) << w.name;
}

// a and b fit in 1024 bytes; c would end at 1280, so it starts a new chunk.
TEST(SchedulerTest, ANewChunkStartsWhereTheLargestBufferWouldOverflow) {
  Target target;
  target.max_buffer_bytes = 1024;
  Scheduled s = schedule(kWeights, target);
  const Program& p = s.program;
  ASSERT_EQ(p.weights.size(), 3u);
  EXPECT_EQ(p.weight_chunks, (std::vector<int64_t>{656, 512}));
  EXPECT_EQ(p.weights[1].chunk, 0);
  EXPECT_EQ(p.weights[1].offset, 256);
  EXPECT_EQ(p.weights[2].chunk, 1);
  EXPECT_EQ(p.weights[2].offset, 0);
  for (int64_t chunk : p.weight_chunks) EXPECT_LE(chunk, target.max_buffer_bytes);
}

TEST(SchedulerTest, AWeightLargerThanTheLargestBufferIsResourceExhausted) {
  Target target;
  target.max_buffer_bytes = 256;
  Scheduled s;
  absl::StatusOr<Program> program = try_schedule(kWeights, s, target);
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().code(), absl::StatusCode::kResourceExhausted) << program.status();
  EXPECT_EQ(std::string(program.status().message()),
            "weight %b (f32[100], 400 bytes) is larger than the target's largest buffer (256 bytes)");
}

}  // namespace
}  // namespace kiln::passes
