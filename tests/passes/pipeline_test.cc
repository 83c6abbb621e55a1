#include <sstream>

#include "gtest/gtest.h"
#include "ir/text.h"
#include "passes/pass_manager.h"
#include "program/program_json.h"

namespace kiln::passes {
namespace {

constexpr std::string_view kMlp = R"(symbol T <= 16
input %x : f32[T, 8]
weight %w1 : f32[8, 32]
weight %w2 : f32[32, 8]
weight %unused : f32[4]
%h = matmul(%x, %w1) : f32[T, 32]
%a = silu(%h) : f32[T, 32]
%dead = relu(%a) : f32[T, 32]
%y = matmul(%a, %w2) : f32[T, 8]
output %y
)";

TEST(PipelineTest, CompilesAGraphToAProgramAndItsJson) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(kMlp);
  ASSERT_TRUE(graph.ok()) << graph.status();
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline("infer-shapes,dce,plan-memory,schedule");
  ASSERT_TRUE(manager.ok()) << manager.status();
  PassContext context;
  ASSERT_TRUE(manager->run(*graph, context).ok());
  ASSERT_TRUE(context.program.has_value());
  const program::Program& program = *context.program;
  EXPECT_EQ(graph->find_value("dead"), nullptr);
  EXPECT_EQ(graph->find_value("unused"), nullptr);
  ASSERT_EQ(program.dispatches.size(), 3u);
  EXPECT_EQ(program.dispatches[0].kernel, "matmul");
  EXPECT_EQ(program.dispatches[1].kernel, "silu");
  ASSERT_EQ(program.dispatches[1].step_params.size(), 1u);
  EXPECT_EQ(program.dispatches[1].step_params[0].name, "n");
  EXPECT_EQ(program.slots.at(program.dispatches[1].step_params[0].slot).name, "32*T");
  EXPECT_EQ(program.weights.size(), 2u);
  absl::StatusOr<program::Program> again = program::program_from_json(program::program_to_json(program));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, program);
}

TEST(PipelineTest, UnknownPassListsTheKnownOnes) {
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline("dce,frobnicate");
  ASSERT_FALSE(manager.ok());
  EXPECT_NE(manager.status().message().find("unknown pass 'frobnicate'; known passes: canonicalize, cse, dce"),
            std::string_view::npos)
      << manager.status();
}

}  // namespace
}  // namespace kiln::passes
