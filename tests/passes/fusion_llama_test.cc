// The Llama-style block (tests/passes/fuse/llama_block_*.kir, one layer of
// the residual stream) through the default pipeline with and without
// `fuse`: the fused form and its dispatches per layer, printed and
// asserted. docs/fusion.md quotes these numbers in its "Dispatches per
// layer" table, which DocumentedTableIsWhatTheBlockCompilesTo reads back:
// when the pipeline changes, its failure prints the rows to paste.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "ir/text.h"
#include "passes/pass_manager.h"
#include "tests/passes/markdown_table.h"

namespace kiln::passes {
namespace {

const std::filesystem::path kCases = std::filesystem::path(KILN_SOURCE_DIR) / "tests" / "passes" / "fuse";

// The kernels the block dispatches, in order, after `pipeline`.
std::vector<std::string> dispatched_kernels(const std::string& file, const std::string& pipeline) {
  std::stringstream text;
  text << std::ifstream(kCases / file).rdbuf();
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(text.str(), file);
  EXPECT_TRUE(graph.ok()) << graph.status();
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline(pipeline);
  EXPECT_TRUE(manager.ok()) << manager.status();
  PassContext context;
  absl::Status status = manager->run(*graph, context);
  EXPECT_TRUE(status.ok()) << status;
  std::vector<std::string> kernels;
  if (context.program) {
    for (const program::Dispatch& dispatch : context.program->dispatches) kernels.push_back(dispatch.kernel);
  }
  return kernels;
}

std::string unfused_pipeline() { return absl::StrReplaceAll(std::string(kDefaultPipeline), {{",fuse", ""}}); }

void expect_dispatches(const std::string& file, const std::vector<std::string>& fused_kernels) {
  const std::vector<std::string> unfused = dispatched_kernels(file, unfused_pipeline());
  const std::vector<std::string> fused = dispatched_kernels(file, std::string(kDefaultPipeline));
  std::cout << file << ": dispatches per layer: " << unfused.size() << " unfused -> " << fused.size() << " fused\n"
            << "  unfused: " << absl::StrJoin(unfused, ", ") << "\n"
            << "  fused:   " << absl::StrJoin(fused, ", ") << "\n";
  EXPECT_EQ(unfused.size(), 18u);
  EXPECT_EQ(fused, fused_kernels);
}

TEST(FusionLlamaTest, DecodeLayerTakesNineDispatches) {
  expect_dispatches("llama_block_decode.kir",
                    {"residual_rmsnorm", "matmul_qkv", "rope", "rope", "kv_write", "kv_write", "attention",
                     "matmul_rmsnorm", "fused_ffn"});
}

TEST(FusionLlamaTest, PrefillLayerTakesElevenDispatches) {
  expect_dispatches("llama_block_prefill.kir",
                    {"residual_rmsnorm", "matmul_qkv", "rope", "rope", "kv_write", "kv_write", "attention", "matmul",
                     "residual_rmsnorm", "fused_gate_up", "matmul"});
}

// The doc's way of listing kernels: in order, a run of one kernel as
// "rope ×2".
std::string kernel_list(const std::vector<std::string>& kernels) {
  std::vector<std::string> items;
  for (size_t i = 0; i < kernels.size();) {
    size_t run = 1;
    while (i + run < kernels.size() && kernels[i + run] == kernels[i]) ++run;
    items.push_back(run == 1 ? kernels[i] : absl::StrCat(kernels[i], " ×", run));
    i += run;
  }
  return absl::StrJoin(items, ", ");
}

// docs/fusion.md's "| step | unfused | fused | fused kernels |" table: one
// row per block file, named by its first word (decode, prefill), the rest
// of the first cell kept as written.
TEST(FusionLlamaTest, DocumentedTableIsWhatTheBlockCompilesTo) {
  const std::string doc_path = std::string(KILN_SOURCE_DIR) + "/docs/fusion.md";
  const std::optional<::kiln::testing::MarkdownTable> table = ::kiln::testing::find_markdown_table(
      ::kiln::testing::read_text_file(doc_path), {"step", "unfused", "fused", "fused kernels"});
  ASSERT_TRUE(table.has_value()) << doc_path << ": no table headed | step | unfused | fused | fused kernels |";
  std::vector<std::string> documented_steps;
  for (const std::vector<std::string>& row : table->rows) {
    ASSERT_EQ(row.size(), 4u) << doc_path << ": " << ::kiln::testing::markdown_row(row);
    const std::string step = row[0].substr(0, row[0].find(' '));
    documented_steps.push_back(step);
    const std::string file = absl::StrCat("llama_block_", step, ".kir");
    ASSERT_TRUE(std::filesystem::exists(kCases / file))
        << doc_path << ": the row " << ::kiln::testing::markdown_row(row) << " names no block (" << file << ")";
    const std::vector<std::string> unfused = dispatched_kernels(file, unfused_pipeline());
    const std::vector<std::string> fused = dispatched_kernels(file, std::string(kDefaultPipeline));
    const std::vector<std::string> compiled = {row[0], absl::StrCat(unfused.size()), absl::StrCat(fused.size()),
                                               kernel_list(fused)};
    EXPECT_EQ(row, compiled) << doc_path << " is out of date for " << file << "; the row is now:\n"
                             << ::kiln::testing::markdown_row(compiled);
  }
  EXPECT_EQ(documented_steps, (std::vector<std::string>{"decode", "prefill"})) << doc_path;
}

}  // namespace
}  // namespace kiln::passes
