#include <sstream>

#include "gtest/gtest.h"
#include "ir/text.h"
#include "passes/pass_manager.h"
#include "passes/pass_test_gtest.h"

namespace kiln::passes {
namespace {

constexpr std::string_view kGraph = R"(input %x : f32[4]
%a = silu(%x)
%dead = relu(%a)
output %a
)";

ir::Graph parse(std::string_view text) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(text);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return graph.ok() ? *std::move(graph) : ir::Graph();
}

TEST(PassManagerTest, PrintsAfterTheNamedPassOnly) {
  std::ostringstream log;
  PassManagerOptions options;
  options.print_after = {"dce"};
  options.log = &log;
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline("infer-shapes, dce", options);
  ASSERT_TRUE(manager.ok()) << manager.status();
  ir::Graph graph = parse(kGraph);
  PassContext context;
  ASSERT_TRUE(manager->run(graph, context).ok());
  EXPECT_EQ(log.str(), "// ----- after dce -----\n" + ir::print_graph(graph));
}

TEST(PassManagerTest, PrintsAfterAllAndTimesEachPass) {
  std::ostringstream log;
  PassManagerOptions options;
  options.print_after_all = true;
  options.timing = true;
  options.log = &log;
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline("infer-shapes,dce", options);
  ASSERT_TRUE(manager.ok()) << manager.status();
  ir::Graph graph = parse(kGraph);
  PassContext context;
  ASSERT_TRUE(manager->run(graph, context).ok());
  const std::string text = log.str();
  EXPECT_NE(text.find("// ----- after infer-shapes -----\n"), std::string::npos) << text;
  EXPECT_NE(text.find("%dead = relu"), std::string::npos) << text;
  EXPECT_NE(text.find("// ----- after dce -----\n"), std::string::npos) << text;
  EXPECT_NE(text.find("// timing: infer-shapes: "), std::string::npos) << text;
  EXPECT_NE(text.find("// timing: dce: "), std::string::npos) << text;
  EXPECT_NE(text.find("// timing: total: "), std::string::npos) << text;
}

TEST(PassManagerTest, EmptyPipelineRunsNothing) {
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline("");
  ASSERT_TRUE(manager.ok()) << manager.status();
  EXPECT_TRUE(manager->passes().empty());
}

TEST(PassManagerTest, EmptyPassNameIsAnError) {
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline("dce,,cse");
  ASSERT_FALSE(manager.ok());
  EXPECT_NE(manager.status().message().find("pipeline 'dce,,cse': empty pass name"), std::string_view::npos)
      << manager.status();
}

TEST(PassManagerTest, UnknownPrintAfterPassIsAnError) {
  PassManagerOptions options;
  options.print_after = {"nope"};
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline("dce", options);
  ASSERT_FALSE(manager.ok());
  EXPECT_NE(manager.status().message().find("--print-after: unknown pass 'nope'"), std::string_view::npos)
      << manager.status();
}

TEST(PassManagerTest, ScheduleWithoutAPlanNamesThePass) {
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline("schedule");
  ASSERT_TRUE(manager.ok());
  ir::Graph graph = parse(kGraph);
  PassContext context;
  absl::Status status = manager->run(graph, context);
  EXPECT_NE(status.message().find("schedule: no memory plan: run plan-memory before schedule"), std::string_view::npos)
      << status;
}

// A pass that breaks the graph: it changes an input's type without
// re-inferring, so the verifier after it must object and name it.
absl::Status retype_input(ir::Graph& graph, PassContext&) {
  graph.inputs()[0]->set_type({ir::DType::f32, {ir::Dim(5)}});
  return absl::OkStatus();
}

TEST(PassManagerTest, VerifierAfterEachPassNamesTheCulprit) {
  ASSERT_TRUE(PassRegistry::global().add({"test-retype-input", "breaks the graph", retype_input}).ok());
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline("test-retype-input");
  ASSERT_TRUE(manager.ok());
  ir::Graph graph = parse(kGraph);
  PassContext context;
  absl::Status status = manager->run(graph, context);
  EXPECT_NE(status.message().find("test-retype-input: left an invalid graph: %a = silu: result %a has type f32[4]"),
            std::string_view::npos)
      << status;
}

TEST(PassRegistryTest, RefusesDuplicateAndMalformedNames) {
  EXPECT_EQ(PassRegistry::global().add({"dce", "again", retype_input}).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(PassRegistry::global().add({"a,b", "comma", retype_input}).ok());
  EXPECT_FALSE(PassRegistry::global().add({"no-run", "no function", nullptr}).ok());
}

// What docs/pass-tests.md shows: a user's own pass, tested as text.
absl::Status double_scales(ir::Graph& graph, PassContext&) {
  std::vector<ir::Node*> scales;
  for (const auto& node : graph.nodes()) {
    if (node->op() == "scale") scales.push_back(node.get());
  }
  for (ir::Node* node : scales) {
    absl::StatusOr<ir::Node*> doubled = graph.add_node(
        "scale", {node->input(0)}, {{"scale", node->attr_real("scale") * 2}}, {graph.unique_name("doubled")}, node);
    if (!doubled.ok()) return doubled.status();
    graph.replace_all_uses(node->output(), (*doubled)->output());
  }
  return absl::OkStatus();
}

TEST(PassTestHelperTest, UserPassIsTestedAsText) {
  ASSERT_TRUE(PassRegistry::global().add({"test-double-scales", "scale(x, s) -> scale(x, 2s)", double_scales}).ok());
  EXPECT_PASS_CASE(R"(
# run: test-double-scales,dce
input %x : f32[4]
%y = scale(%x) {scale = 1.5}
%z = relu(%y)
output %z
# expect: %doubled = scale(%x) {scale = 3.0}
# expect: %z = relu(%doubled)
# expect-not: %y =
)");
}

TEST(PassTestHelperTest, FailureNamesTheExpectationAndShowsTheGraph) {
  absl::Status status = run_pass_case(R"(
# run: dce
input %x : f32[4]
%y = relu(%x)
output %y
# expect: %y = relu(%x)
# expect: %y = silu(%x)
)");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("expect #2 not found after the previous match: %y = silu(%x)"),
            std::string_view::npos)
      << status;
  EXPECT_NE(status.message().find("--- output graph ---\ninput %x : f32[4]\n%y = relu(%x)"), std::string_view::npos)
      << status;
}

TEST(PassTestHelperTest, ExpectationsMatchInOrder) {
  absl::Status status = run_pass_case(R"(
# run: dce
input %x : f32[4]
%a = relu(%x)
%b = silu(%a)
output %b
# expect: %b = silu
# expect: %a = relu
)");
  EXPECT_FALSE(status.ok());
}

TEST(PassTestHelperTest, ExpectNotAndExpectErrorFailWhenTheyShould) {
  EXPECT_FALSE(run_pass_case("# run: dce\ninput %x : f32[4]\n%y = relu(%x)\noutput %y\n# expect-not: relu\n").ok());
  absl::Status status = run_pass_case("# run: dce\ninput %x : f32[4]\noutput %x\n# expect-error: boom\n");
  EXPECT_NE(status.message().find("expected the pipeline to fail with: boom"), std::string_view::npos) << status;
}

TEST(PassTestHelperTest, MisspeltExpectationIsAnError) {
  absl::Status status = run_pass_case("# run: dce\ninput %x : f32[4]\noutput %x\n# expect-nto: relu\n");
  EXPECT_NE(status.message().find("line 4: unknown directive '# expect-nto: relu'"), std::string_view::npos) << status;
}

TEST(PassTestHelperTest, CaseErrorsAreReadable) {
  EXPECT_NE(run_pass_case("input %x : f32[4]\n").message().find("no '# run: PIPELINE' line"), std::string_view::npos);
  EXPECT_NE(run_pass_case("# run: dce\n%y = relu(%nope)\n").message().find("input graph: case:2:"),
            std::string_view::npos);
  EXPECT_NE(run_pass_case("# run: dce\n# set-type: %y : f32[2]\ninput %x : f32[4]\n%y = relu(%x)\n")
                .message()
                .find("line 2: set-type: %y is not an input, weight or state"),
            std::string_view::npos);
}

}  // namespace
}  // namespace kiln::passes
