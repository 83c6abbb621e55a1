#include "passes/fusion_engine.h"

#include <set>

#include "gtest/gtest.h"
#include "ir/text.h"
#include "passes/fusion_rules.h"

namespace kiln::passes {
namespace {

ir::Graph parse(std::string_view text) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(text);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return *std::move(graph);
}

FusionRule residual_rmsnorm_rule(std::string name) {
  return {.name = std::move(name), .pattern = "y:rmsnorm(s:add(a, b), g)", .when = {same_shape({"a", "b"})},
          .fused = "s, y = residual_rmsnorm(a, b, g) {eps = y.eps}", .why = "test"};
}

TEST(FusionRulesTest, BuiltinTablesCompile) {
  absl::StatusOr<std::vector<CompiledTable>> tables = compile_tables(builtin_fusion_tables());
  ASSERT_TRUE(tables.ok()) << tables.status();
  std::set<std::string> names;
  for (const CompiledTable& table : *tables) {
    for (const CompiledRule& rule : table.rules) {
      EXPECT_TRUE(names.insert(rule.row.name).second) << "duplicate rule " << rule.row.name;
      EXPECT_FALSE(rule.row.why.empty()) << rule.row.name;
    }
  }
  EXPECT_EQ(names.size(), 15u);
}

struct BadRule {
  const char* name;
  FusionRule rule;
  const char* message;
};

class RuleErrorTest : public testing::TestWithParam<BadRule> {};

TEST_P(RuleErrorTest, NamesTableRuleAndProblem) {
  absl::StatusOr<std::vector<CompiledTable>> tables = compile_tables({{"t", {GetParam().rule}}});
  ASSERT_FALSE(tables.ok());
  EXPECT_NE(tables.status().message().find(GetParam().message), std::string_view::npos) << tables.status();
  EXPECT_NE(tables.status().message().find("fusion table t, rule r: "), std::string_view::npos) << tables.status();
}

FusionRule rule(std::string pattern, std::string fused, std::vector<Condition> when = {}) {
  return {.name = "r", .pattern = std::move(pattern), .when = std::move(when), .fused = std::move(fused), .why = ""};
}

INSTANTIATE_TEST_SUITE_P(
    Errors, RuleErrorTest,
    testing::Values(
        BadRule{"root_not_a_result", rule("y:rmsnorm(s:add(a, b), g)", "s = residual_rmsnorm(a, b, g)"),
                "root 'y' is not a result"},
        BadRule{"operand_not_a_capture", rule("y:rmsnorm(s:add(a, b), g)", "s, y = residual_rmsnorm(s, b, g)"),
                "operand 's' is not a capture"},
        BadRule{"primitive_op", rule("y:rmsnorm(s:add(a, b), g)", "y = rmsnorm(a, g)"), "'rmsnorm' is not a fused op"},
        BadRule{"unknown_attribute", rule("y:rmsnorm(s:add(a, b), g)", "s, y = residual_rmsnorm(a, b, g) {act = y.op}"),
                "residual_rmsnorm has no attribute 'act'"},
        BadRule{"attribute_from_a_capture",
                rule("y:rmsnorm(s:add(a, b), g)", "s, y = residual_rmsnorm(a, b, g) {eps = g.eps}"),
                "'g' is not a named node"},
        BadRule{"unbound_condition",
                rule("y:rmsnorm(s:add(a, b), g)", "s, y = residual_rmsnorm(a, b, g)", {decode("h")}),
                "condition 'rows(h) == 1' reads 'h', which the pattern does not bind"},
        BadRule{"malformed_form", rule("y:rmsnorm(s:add(a, b), g)", "residual_rmsnorm a b g"),
                "must read `results = op"},
        BadRule{"bad_pattern", rule("y:rmsnorm(s:add(a, b), g", "s, y = residual_rmsnorm(a, b, g)"), "expected ')'"}),
    [](const testing::TestParamInfo<BadRule>& info) { return std::string(info.param.name); });

TEST(FusionEngineTest, FirstRuleOfATableWinsAtASite) {
  const std::string text = R"(input %a : f32[2, 8]
input %b : f32[2, 8]
weight %g : f32[8]
%s = add(%a, %b)
%y = rmsnorm(%s, %g)
output %y
)";
  FusionRule refusing = residual_rmsnorm_rule("refusing");
  refusing.when = {decode("a")};
  const std::vector<std::tuple<FusionRule, FusionRule, std::string>> orders = {
      {residual_rmsnorm_rule("one"), residual_rmsnorm_rule("two"), "one"},
      {refusing, residual_rmsnorm_rule("two"), "two"}};
  for (const auto& [first, second, winner] : orders) {
    ir::Graph graph = parse(text);
    absl::StatusOr<std::vector<CompiledTable>> tables = compile_tables({{"t", {first, second}}});
    ASSERT_TRUE(tables.ok()) << tables.status();
    absl::StatusOr<FusionReport> report = run_fusion(graph, *tables, Target{});
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_EQ(report->sites.size(), 1u);
    EXPECT_EQ(report->sites[0].attempts.back().rule, winner);
    EXPECT_EQ(report->fusions(), 1);
  }
}

TEST(FusionEngineTest, ReportListsEveryRuleTriedInWordsAndCountsSites) {
  ir::Graph graph = parse(R"(symbol T <= 64
input %a : f32[T, 8]
input %b : f32[T, 8]
weight %g : f32[8]
%s = add(%a, %b)
%y = rmsnorm(%s, %g)
output %y
)");
  FusionRule refusing = residual_rmsnorm_rule("decode_only");
  refusing.when = {decode("a")};
  absl::StatusOr<std::vector<CompiledTable>> tables = compile_tables({{"t", {refusing}}});
  ASSERT_TRUE(tables.ok()) << tables.status();
  absl::StatusOr<FusionReport> report = run_fusion(graph, *tables, Target{});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(format_fusion_report(*report),
            "fuse: rejected decode_only at %y = rmsnorm: needs rows(a) == 1, but rows of a (%a) are T (bound 64) — "
            "this rule is for decode (one token per step)\n"
            "fuse: 0 fused of 1 candidate sites\n");
}

TEST(FusionEngineTest, FusedResultsKeepTheReplacedNamesAndReaders) {
  ir::Graph graph = parse(R"(input %a : f32[2, 8]
input %b : f32[2, 8]
weight %g : f32[8]
%s = add(%a, %b)
%early = relu(%s)
%y = rmsnorm(%s, %g)
%z = add(%early, %y)
output %z, %s
)");
  absl::StatusOr<std::vector<CompiledTable>> tables = compile_tables({{"t", {residual_rmsnorm_rule("r")}}});
  ASSERT_TRUE(tables.ok());
  ASSERT_TRUE(run_fusion(graph, *tables, Target{}).ok());
  // %early read the sum before the norm; it now follows the fused node.
  EXPECT_EQ(ir::print_graph(graph), R"(input %a : f32[2, 8]
input %b : f32[2, 8]
weight %g : f32[8]
%s, %y = residual_rmsnorm(%a, %b, %g) {eps = 1e-05} : f32[2, 8], f32[2, 8]
%early = relu(%s) : f32[2, 8]
%z = add(%early, %y) : f32[2, 8]
output %z, %s
)");
}

TEST(FusionConditionTest, ConditionsPrintThemselves) {
  EXPECT_EQ(decode("h").text, "rows(h) == 1");
  EXPECT_EQ(cols_at_most("h", 8192).text, "cols(h) <= 8192");
  EXPECT_EQ(cols_at_least("x", 4096).text, "cols(x) >= 4096");
  EXPECT_EQ(same_dtype({"x", "w"}).text, "dtype(x) == dtype(w)");
  EXPECT_EQ(same_shape({"a", "b"}).text, "shape(a) == shape(b)");
  EXPECT_EQ(matrices({"w"}).text, "rank(w) == 2");
  EXPECT_EQ(dtype_is("y", ir::DType::f16).text, "dtype(y) == f16");
  EXPECT_EQ(same_attr("transpose_b", {"g", "u"}).text, "transpose_b(g) == transpose_b(u)");
  EXPECT_EQ(fits_workgroup_memory("m", 4).text, "cols(m) * 4 <= target.shared_memory_bytes");
  EXPECT_EQ(backend_is("vulkan").text, "target.backend == vulkan");
  EXPECT_EQ(target_has_f16().text, "target.has_f16");
  EXPECT_EQ(target_has_subgroups().text, "target.subgroup_size > 0");
}

}  // namespace
}  // namespace kiln::passes
