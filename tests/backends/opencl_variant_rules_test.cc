// The OpenCL variant table against the OpenCL kernel table: every pattern
// parses, every (op, variant) a rule can give has a kernel, every kernel is
// reachable from a rule, and the fused ops that would give a whole matrix to
// one work-group at decode have no rule.

#include <set>
#include <utility>

#include "gtest/gtest.h"
#include "kernels/opencl/kernel_table.h"
#include "kernels/opencl/variant_rules.h"
#include "passes/fusion_pattern.h"

namespace kiln::kernels::opencl {
namespace {

std::set<std::pair<std::string, std::string>> rule_pairs() {
  std::set<std::pair<std::string, std::string>> pairs;
  for (const passes::VariantRule& rule : variant_table().rules) {
    absl::StatusOr<passes::Pattern> pattern = passes::Pattern::parse(rule.pattern);
    EXPECT_TRUE(pattern.ok()) << rule.name << ": " << pattern.status();
    if (!pattern.ok()) continue;
    for (const std::string& op : pattern->trees()[0].ops) pairs.insert({op, rule.variant});
  }
  return pairs;
}

TEST(OpenclVariantRulesTest, CompilesAgainstThePassesMatcher) {
  const passes::VariantTable table = variant_table();
  EXPECT_EQ(table.backend, "opencl");
  absl::StatusOr<passes::CompiledVariantTable> compiled = passes::compile_variant_table(table);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
}

TEST(OpenclVariantRulesTest, EveryRuleHasAKernelAndEveryKernelARule) {
  const std::set<std::pair<std::string, std::string>> pairs = rule_pairs();
  for (const auto& pair : pairs) {
    EXPECT_NE(backends::support::find_kernel(kernel_table(), pair.first, pair.second), nullptr)
        << pair.first << "." << pair.second << " has a rule but no kernel";
  }
  for (const KernelRow& row : kernel_table()) {
    EXPECT_TRUE(pairs.contains({std::string(row.op), std::string(row.variant)}))
        << row.op << "." << row.variant << " has a kernel no rule selects";
    EXPECT_FALSE(kernel_source(entry_point(row)).empty()) << entry_point(row) << ".cl is not embedded";
  }
}

TEST(OpenclVariantRulesTest, NoFusedOpThatReadsAWholeMatrixPerWorkGroup) {
  for (const auto& pair : rule_pairs()) {
    EXPECT_NE(pair.first, "fused_ffn");
    EXPECT_NE(pair.first, "matmul_rmsnorm");
  }
}

}  // namespace
}  // namespace kiln::kernels::opencl
