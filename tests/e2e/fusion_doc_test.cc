// docs/fusion.md's "| backend | prefill | decode | fusions that fire |"
// table quotes what `kiln compile models/kjv-llama.gguf --backend B` gives
// on each backend. This test runs that command for every backend whose
// plugin loads here (a GPU plugin that cannot load skips with its reason,
// unless KILN_REQUIRE_BACKENDS names it), counts both Programs' dispatches
// and the fused ops among them, and compares them with the table's row. The
// numbers are read from the doc, never written here: the fusion tables
// change, and when they do the failure prints the row to paste.

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/registry.h"
#include "gtest/gtest.h"
#include "ir/op_registry.h"
#include "tests/frontend/scratch_dir.h"
#include "tests/passes/markdown_table.h"

namespace kiln {
namespace {

using ::kiln::testing::markdown_row;
using ::kiln::testing::MarkdownTable;
using ::kiln::testing::read_text_file;
using ::kiln::testing::ScratchDir;

const std::string kDoc = std::string(KILN_SOURCE_DIR) + "/docs/fusion.md";
const std::vector<std::string> kHeader = {"backend", "prefill", "decode", "fusions that fire"};

// The fused ops a Program dispatches, each once, in order of first dispatch.
std::vector<std::string> fused_kernels(const nlohmann::json& program) {
  std::vector<std::string> fused;
  for (const nlohmann::json& dispatch : program["dispatches"]) {
    const std::string kernel = dispatch["kernel"].get<std::string>();
    const ir::OpDef* op = ir::find_op(kernel);
    if (op != nullptr && op->fused && std::find(fused.begin(), fused.end(), kernel) == fused.end()) {
      fused.push_back(kernel);
    }
  }
  return fused;
}

// The registered fused ops a cell of prose names ("residual_rmsnorm,
// matmul_qkv; at decode fused_ffn too").
std::set<std::string> fused_ops_named(const std::string& text) {
  std::set<std::string> named;
  std::string word;
  for (size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ' ';
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      word += c;
      continue;
    }
    const ir::OpDef* op = ir::find_op(word);
    if (op != nullptr && op->fused) named.insert(word);
    word.clear();
  }
  return named;
}

std::string joined_with_and(const std::vector<std::string>& names) {
  if (names.size() < 2) return absl::StrJoin(names, "");
  return absl::StrCat(absl::StrJoin(names.begin(), names.end() - 1, ", "), " and ", names.back());
}

// The "fusions that fire" cell for these Programs, in the doc's words.
std::string fusions_cell(const std::vector<std::string>& prefill, const std::vector<std::string>& decode) {
  const auto contains = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  std::vector<std::string> both, decode_only, prefill_only;
  for (const std::string& name : prefill) (contains(decode, name) ? both : prefill_only).push_back(name);
  for (const std::string& name : decode) {
    if (!contains(prefill, name)) decode_only.push_back(name);
  }
  std::vector<std::string> parts;
  if (!both.empty()) parts.push_back(absl::StrJoin(both, ", "));
  const std::string too = both.empty() ? "" : " too";
  if (!decode_only.empty()) parts.push_back(absl::StrCat("at decode ", joined_with_and(decode_only), too));
  if (!prefill_only.empty()) parts.push_back(absl::StrCat("at prefill ", joined_with_and(prefill_only), too));
  return parts.empty() ? "none" : absl::StrJoin(parts, "; ");
}

class FusionDocTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    absl::StatusOr<const backends::PluginInfo*> plugin = backends::Registry::global().find(GetParam());
    if (plugin.ok()) return;
    if (backends::backend_required(GetParam())) FAIL() << "KILN_REQUIRE_BACKENDS names " << GetParam() << ": " << plugin.status();
    GTEST_SKIP() << GetParam() << " is unavailable here: " << plugin.status();
  }
};

TEST_P(FusionDocTest, DispatchCountsOfTheShippedModelAreDocumented) {
  const std::string& backend = GetParam();
  const std::optional<MarkdownTable> table = testing::find_markdown_table(read_text_file(kDoc), kHeader);
  ASSERT_TRUE(table.has_value()) << kDoc << ": no table headed " << markdown_row(kHeader);

  ScratchDir dir;
  const std::string command =
      absl::StrCat(KILN_BINARY_DIR, "/tools/kiln compile ", KILN_SOURCE_DIR, "/models/kjv-llama.gguf --backend ",
                   backend, " -o ", dir.file("programs.json"), " 2>", dir.file("stderr"));
  ASSERT_EQ(std::system(command.c_str()), 0) << command << "\n" << read_text_file(dir.file("stderr"));
  const nlohmann::json programs = nlohmann::json::parse(read_text_file(dir.file("programs.json")));
  const std::vector<std::string> prefill = fused_kernels(programs["prefill"]);
  const std::vector<std::string> decode = fused_kernels(programs["decode"]);
  const std::string prefill_count = absl::StrCat(programs["prefill"]["dispatches"].size());
  const std::string decode_count = absl::StrCat(programs["decode"]["dispatches"].size());
  std::cout << "kiln compile models/kjv-llama.gguf --backend " << backend << ": prefill " << prefill_count
            << " dispatches, decode " << decode_count << "; fused: " << fusions_cell(prefill, decode) << "\n";

  const std::vector<std::string>* row = nullptr;
  for (const std::vector<std::string>& candidate : table->rows) {
    if (!candidate.empty() && candidate[0] == backend) row = &candidate;
  }
  std::vector<std::string> compiled = {backend, prefill_count, decode_count, fusions_cell(prefill, decode)};
  ASSERT_NE(row, nullptr) << kDoc << " has no row for " << backend << "; add:\n" << markdown_row(compiled);
  ASSERT_EQ(row->size(), kHeader.size()) << kDoc << ": " << markdown_row(*row);

  // The prose may be worded freely as long as it names exactly the fused
  // ops that are dispatched.
  std::set<std::string> dispatched(prefill.begin(), prefill.end());
  dispatched.insert(decode.begin(), decode.end());
  if (fused_ops_named((*row)[3]) == dispatched) compiled[3] = (*row)[3];
  EXPECT_EQ(*row, compiled) << kDoc << " is out of date for " << backend
                            << " (prefill and decode dispatches, fused ops); the row is now:\n"
                            << markdown_row(compiled);
}

INSTANTIATE_TEST_SUITE_P(Backends, FusionDocTest, ::testing::Values("cpu", "vulkan", "opencl"));

}  // namespace
}  // namespace kiln
