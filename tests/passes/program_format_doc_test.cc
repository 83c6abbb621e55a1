// docs/program-format.md shows the Program `kiln compile examples/mlp.json
// --backend cpu` writes. This test keeps it so: the example must read back
// with program_from_json, and must be, value for value, what the default
// pipeline compiles from examples/mlp.json for the cpu target today. When
// the format or the compiler changes, the failure prints the JSON to paste
// into the doc (reformatting it by hand is fine: only values are compared).

#include <fstream>
#include <sstream>

#include "frontend/graph_json.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "passes/pass_manager.h"
#include "program/program_json.h"

namespace kiln::passes {
namespace {

const std::string kDoc = std::string(KILN_SOURCE_DIR) + "/docs/program-format.md";
// The line before the example's code fence.
constexpr std::string_view kMarker = "<!-- example: kiln compile examples/mlp.json --backend cpu -->";

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The ```json block after the marker, or "" when there is none.
std::string doc_example() {
  const std::string doc = read_file(kDoc);
  const size_t marker = doc.find(kMarker);
  if (marker == std::string::npos) return "";
  const size_t open = doc.find("```json\n", marker);
  if (open == std::string::npos) return "";
  const size_t begin = open + 8;
  const size_t close = doc.find("\n```", begin);
  if (close == std::string::npos) return "";
  return doc.substr(begin, close - begin + 1);
}

// What `kiln compile examples/mlp.json --backend cpu` writes from the
// repository root: the default pipeline for the cpu target (its largest
// buffer exceeds the example's weights, so one chunk either way), weight
// sources relative to the root.
std::string compiled_example() {
  absl::StatusOr<ir::Graph> graph = frontend::load_graph_json(std::string(KILN_SOURCE_DIR) + "/examples/mlp.json");
  EXPECT_TRUE(graph.ok()) << graph.status();
  if (!graph.ok()) return "";
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline(kDefaultPipeline);
  EXPECT_TRUE(manager.ok()) << manager.status();
  PassContext context;
  const absl::Status status = manager->run(*graph, context);
  EXPECT_TRUE(status.ok()) << status;
  if (!context.program) return "";
  const std::string root = std::string(KILN_SOURCE_DIR) + "/";
  for (program::WeightEntry& weight : context.program->weights) {
    if (weight.source.starts_with(root)) weight.source.erase(0, root.size());
  }
  return program::program_to_json(*context.program);
}

TEST(ProgramFormatDocTest, ExampleReadsBack) {
  const std::string example = doc_example();
  ASSERT_FALSE(example.empty()) << kDoc << ": no ```json block after " << kMarker;
  absl::StatusOr<program::Program> program = program::program_from_json(example);
  EXPECT_TRUE(program.ok()) << kDoc << ": the example does not read back: " << program.status();
}

TEST(ProgramFormatDocTest, ExampleIsWhatTheCompilerWrites) {
  const std::string example = doc_example();
  ASSERT_FALSE(example.empty()) << kDoc << ": no ```json block after " << kMarker;
  const nlohmann::json documented = nlohmann::json::parse(example, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(documented.is_discarded()) << kDoc << ": the example is not JSON";
  const std::string compiled = compiled_example();
  ASSERT_FALSE(compiled.empty());
  EXPECT_EQ(documented, nlohmann::json::parse(compiled))
      << kDoc << " is out of date; kiln compile examples/mlp.json --backend cpu now writes:\n"
      << compiled;
}

}  // namespace
}  // namespace kiln::passes
