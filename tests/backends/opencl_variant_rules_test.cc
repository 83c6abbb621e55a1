// The OpenCL variant table against the OpenCL kernel table: every pattern
// parses, every (op, variant) a rule can give has a kernel, every kernel is
// reachable from a rule, and the fused ops that would give a whole matrix to
// one work-group at decode have no rule. And the gemv kernels' teams: the
// host's choice of GEMV_LANES and the group count that goes with it.

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

// y[1, n] = x[1, k] @ w^T, w [n, k] (transpose_b) or w [k, n].
program::Dispatch gemv_dispatch(int64_t n, int64_t k, bool transpose_b) {
  auto tensor = [](std::vector<int64_t> dims) {
    program::TensorRef ref;
    for (int64_t d : dims) ref.shape.push_back(program::Dim::fixed(d));
    return ref;
  };
  program::Dispatch d;
  d.kernel = "matmul";
  d.variant = "gemv";
  d.constants.push_back({"transpose_b", program::Constant::Type::boolean, transpose_b ? 1 : 0, 0, ""});
  d.inputs = {tensor({1, k}), transpose_b ? tensor({n, k}) : tensor({k, n})};
  d.outputs = {tensor({1, n})};
  return d;
}

struct Launch {
  int64_t team;
  int64_t groups;
};

Launch gemv_launch(const program::Dispatch& d, int64_t workgroup) {
  const KernelRow* row = backends::support::find_kernel(kernel_table(), d.kernel, d.variant);
  EXPECT_NE(row, nullptr);
  if (row == nullptr || row->kernel.team == nullptr) return {0, 0};
  const std::vector<std::vector<int64_t>> inputs = {{1, d.inputs[0].shape[1].value}, {}};
  const std::vector<std::vector<int64_t>> outputs = {{1, d.outputs[0].shape[1].value}};
  // As the plugin does: the team once at compile, the group count per step.
  const int64_t team = row->kernel.team(d, workgroup);
  return {team, row->kernel.groups({d, inputs, outputs, team}, workgroup)};
}

TEST(OpenclVariantRulesTest, EveryGemvKernelAndNoOtherChoosesATeam) {
  for (const KernelRow& row : kernel_table()) {
    const bool gemv = row.variant == "gemv" || row.variant == "gemv_subgroup";
    EXPECT_EQ(row.kernel.team != nullptr, gemv) << row.op << "." << row.variant;
  }
}

// The team is the smallest power of two from 32 that has 128 lanes (or one
// per 8-element chunk of K, where K has fewer), gives the product at least
// 1,024 groups and gives each lane at most 16 chunks.
TEST(OpenclVariantRulesTest, GemvTeamsFillTheDeviceAndBoundEachLanesShare) {
  const struct {
    int64_t n, k, team;
  } cases[] = {
      {14336, 4096, 128},   // 4 chunks a lane, 7,168 groups
      {128256, 2048, 128},  // the lm head
      {28672, 8192, 128},   // 8 chunks a lane
      {2048, 2048, 128},    // a 1B decode's output projection
      {8192, 512, 64},      // K has 64 chunks: a lane each
      {8192, 64, 32},       // K has 8 chunks: never under 32 lanes
      {4096, 576, 128},     // 72 chunks: 128 lanes, 56 of them idle
      {2048, 65536, 256},   // 32 chunks a lane with 256: as many as a group has
      {100, 4096, 256},     // 256 lanes give 100 groups, the most there are
      {2000, 512, 256},     // 64 chunks, but 128 lanes give 1,000 groups
  };
  for (const auto& c : cases) {
    const Launch launch = gemv_launch(gemv_dispatch(c.n, c.k, true), 256);
    EXPECT_EQ(launch.team, c.team) << c.n << "x" << c.k;
    EXPECT_EQ(launch.groups, (c.n + 256 / c.team - 1) / (256 / c.team)) << c.n << "x" << c.k;
  }
  // A device that lowers the group to 64 work-items caps the team there
  // (500 groups of 32 would be too few).
  EXPECT_EQ(gemv_launch(gemv_dispatch(1000, 2048, true), 64).team, 64);
  EXPECT_EQ(gemv_launch(gemv_dispatch(1000, 2048, true), 64).groups, 1000);
  // Without transpose_b a work-item computes an output alone.
  const Launch alone = gemv_launch(gemv_dispatch(1000, 4096, false), 256);
  EXPECT_EQ(alone.team, 1);
  EXPECT_EQ(alone.groups, 4);
}

// The team is a build constant: symbolic rows leave it to the columns and
// K, a symbolic column count keeps 32; the group count follows each step's
// extents either way.
TEST(OpenclVariantRulesTest, GemvTeamsOfSymbolicProducts) {
  const KernelRow* row = backends::support::find_kernel(kernel_table(), "matmul", "gemv");
  ASSERT_NE(row, nullptr);
  program::Dispatch rows_symbolic = gemv_dispatch(2048, 2048, true);
  rows_symbolic.inputs[0].shape[0] = program::Dim::of_slot(0);
  rows_symbolic.outputs[0].shape[0] = program::Dim::of_slot(0);
  EXPECT_EQ(row->kernel.team(rows_symbolic, 256), 128);
  const std::vector<std::vector<int64_t>> three_rows_in = {{3, 2048}, {2048, 2048}}, three_rows_out = {{3, 2048}};
  EXPECT_EQ(row->kernel.groups({rows_symbolic, three_rows_in, three_rows_out, 128}, 256), 3 * 1024);

  program::Dispatch columns_symbolic = gemv_dispatch(2048, 2048, true);
  columns_symbolic.inputs[1].shape[0] = program::Dim::of_slot(0);
  columns_symbolic.outputs[0].shape[1] = program::Dim::of_slot(0);
  EXPECT_EQ(row->kernel.team(columns_symbolic, 256), 32);
  const std::vector<std::vector<int64_t>> in = {{1, 2048}, {500, 2048}}, out = {{1, 500}};
  EXPECT_EQ(row->kernel.groups({columns_symbolic, in, out, 32}, 256), 63);  // 8 outputs a group
}

// gemv_subgroup's teams are subgroups taking the group's outputs in turn:
// they stay at 32, or most subgroups of a group would idle.
TEST(OpenclVariantRulesTest, SubgroupGemvKeepsTeamsOf32) {
  program::Dispatch d = gemv_dispatch(2048, 2048, true);
  d.variant = "gemv_subgroup";
  const Launch launch = gemv_launch(d, 256);
  EXPECT_EQ(launch.team, 32);
  EXPECT_EQ(launch.groups, 256);
}

}  // namespace
}  // namespace kiln::kernels::opencl
