// The Llama-style block (tests/passes/fuse/llama_block_*.kir, one layer of
// the residual stream) through the default pipeline with and without
// `fuse`: the fused form and its dispatches per layer, printed and
// asserted. docs/fusion.md quotes these numbers.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "ir/text.h"
#include "passes/pass_manager.h"

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

void expect_dispatches(const std::string& file, const std::vector<std::string>& fused_kernels) {
  const std::string unfused_pipeline = absl::StrReplaceAll(std::string(kDefaultPipeline), {{",fuse", ""}});
  const std::vector<std::string> unfused = dispatched_kernels(file, unfused_pipeline);
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

}  // namespace
}  // namespace kiln::passes
