#include "passes/scheduler.h"
#include "gtest/gtest.h"
#include "ir/text.h"
#include "passes/memory_planner.h"

namespace kiln::passes {
namespace {

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

Scheduled schedule(std::string_view text) {
  Scheduled out;
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(text);
  EXPECT_TRUE(graph.ok()) << graph.status();
  out.graph = *std::move(graph);
  absl::StatusOr<MemoryPlan> plan = plan_memory(out.graph);
  EXPECT_TRUE(plan.ok()) << plan.status();
  out.plan = *plan;
  absl::StatusOr<Program> program = schedule_program(out.graph, out.plan);
  EXPECT_TRUE(program.ok()) << program.status();
  if (program.ok()) out.program = *std::move(program);
  return out;
}

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
  EXPECT_EQ(rope.inputs[0].shape, (ir::Shape{ir::Dim::symbol("T"), ir::Dim(4), ir::Dim(16)}));
  const Dispatch& kv_write = s.program.dispatches[2];
  EXPECT_EQ(kv_write.outputs[0].region, Region::state);
  EXPECT_EQ(kv_write.outputs[0].offset, s.program.states[0].ref.offset);
}

TEST(SchedulerTest, UniformsAreShapeSymbolsAndTheSymbolsTheOpReads) {
  Scheduled s = schedule(kGraph);
  EXPECT_EQ(s.program.dispatches[0].uniforms, (std::vector<std::string>{"T"}));       // matmul
  EXPECT_EQ(s.program.dispatches[1].uniforms, (std::vector<std::string>{"P", "T"}));  // rope reads P
  EXPECT_EQ(s.program.dispatches[3].uniforms, (std::vector<std::string>{"P", "T"}));  // attention
  EXPECT_EQ(s.program.dispatches[4].uniforms, (std::vector<std::string>{"T"}));       // slice of [T, ...]
  EXPECT_EQ(s.program.dispatches[4].work_size, (ir::Shape{ir::Dim(1), ir::Dim(4), ir::Dim(16)}));
}

TEST(SchedulerTest, UndeclaredReadSymbolsAreNotUniforms) {
  Scheduled s = schedule(R"(symbol T <= 4
input %x : f32[T, 2, 8]
%r = rope(%x) {rotary_dim = 8}
output %r
)");
  EXPECT_EQ(s.program.dispatches[0].uniforms, (std::vector<std::string>{"T"}));
}

TEST(SchedulerTest, TablesAndSizesComeFromGraphAndPlan) {
  Scheduled s = schedule(kGraph);
  const Program& p = s.program;
  EXPECT_EQ(p.symbols, (ir::SymbolValues{{"P", 64}, {"T", 16}}));
  EXPECT_EQ(p.arena_bytes, s.plan.arena_bytes);
  EXPECT_EQ(p.arena_lower_bound_bytes, s.plan.lower_bound_bytes);
  EXPECT_EQ(p.state_bytes, 64 * 4 * 16 * 4);
  ASSERT_EQ(p.weights.size(), 1u);
  EXPECT_EQ(p.weights[0].name, "wq");
  EXPECT_EQ(p.weights[0].bytes, 64 * 64 * 4);
  ASSERT_EQ(p.inputs.size(), 1u);
  EXPECT_EQ(p.inputs[0].name, "x");
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
  absl::StatusOr<Program> program = schedule_program(*graph, plan);
  EXPECT_NE(program.status().message().find("%x has no placement in the memory plan"), std::string_view::npos)
      << program.status();
}

}  // namespace
}  // namespace kiln::passes
