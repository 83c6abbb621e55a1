// The shipped examples through kDefaultPipeline: the arena stays within 5%
// of its lower bound, and the Program passes its own checks and survives
// the JSON round trip.

#include <cstdio>

#include "frontend/graph_json.h"
#include "gtest/gtest.h"
#include "passes/pass_manager.h"
#include "program/program_check.h"
#include "program/program_json.h"

namespace kiln::passes {
namespace {

class ExampleTest : public testing::TestWithParam<const char*> {};

TEST_P(ExampleTest, CompilesWithinFivePercentOfTheLowerBound) {
  const std::string path = std::string(KILN_SOURCE_DIR) + "/examples/" + GetParam();
  absl::StatusOr<ir::Graph> graph = frontend::load_graph_json(path);
  ASSERT_TRUE(graph.ok()) << graph.status();
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline(kDefaultPipeline);
  ASSERT_TRUE(manager.ok()) << manager.status();
  PassContext context;
  ASSERT_TRUE(manager->run(*graph, context).ok());
  ASSERT_TRUE(context.program.has_value());
  const program::Program& program = *context.program;
  const double ratio = static_cast<double>(program.arena_bytes) / static_cast<double>(program.arena_lower_bound_bytes);
  std::printf("%s: arena %lld bytes, lower bound %lld, ratio %.4f\n", GetParam(),
              static_cast<long long>(program.arena_bytes), static_cast<long long>(program.arena_lower_bound_bytes),
              ratio);
  EXPECT_LE(ratio, 1.05);
  EXPECT_TRUE(program::check_program(program).ok()) << program::check_program(program);
  absl::StatusOr<program::Program> again = program::program_from_json(program::program_to_json(program));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, program);
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleTest, testing::Values("mlp.json", "llama_block.json"),
                         [](const testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           return name.substr(0, name.find('.'));
                         });

}  // namespace
}  // namespace kiln::passes
