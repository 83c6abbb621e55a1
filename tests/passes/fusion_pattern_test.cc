#include "passes/fusion_pattern.h"

#include "gtest/gtest.h"
#include "ir/text.h"

namespace kiln::passes {
namespace {

ir::Graph parse(std::string_view text) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(text);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return *std::move(graph);
}

ir::Node& node_of(const ir::Graph& graph, const std::string& value) { return *graph.find_value(value)->producer(); }

Pattern pattern(std::string_view text) {
  absl::StatusOr<Pattern> p = Pattern::parse(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

struct BadPattern {
  const char* text;
  const char* message;
};

class PatternErrorTest : public testing::TestWithParam<BadPattern> {};

TEST_P(PatternErrorTest, NamesTheProblem) {
  absl::StatusOr<Pattern> p = Pattern::parse(GetParam().text);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find(GetParam().message), std::string_view::npos) << p.status();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, PatternErrorTest,
    testing::Values(BadPattern{"y:frobnicate(x)", "unknown op 'frobnicate'"},
                    BadPattern{"y:add(x, y:relu(z))", "'y' is bound twice"},
                    BadPattern{"y:add(h, h:relu(z))", "'h' names a node and a capture"},
                    BadPattern{"q:matmul(x, w); k:matmul(z, v)", "tree 2 shares no capture with the trees before it"},
                    BadPattern{"q:matmul(x, w); matmul(x, v)", "tree 2 must be a named node"},
                    BadPattern{"add(x, y", "expected ')'"},
                    BadPattern{"y:add(x, y) extra", "unexpected text"},
                    BadPattern{"relu|(x)", "unknown op ''"}));

TEST(PatternTest, ParsesNamesRootsAndOpSets) {
  Pattern p = pattern("d:matmul(m:mul(act:silu|gelu(g:matmul(x, wg)), u:matmul(x, wu)), wd)");
  EXPECT_EQ(p.root_names(), std::vector<std::string>{"d"});
  EXPECT_TRUE(p.binds_node("act"));
  EXPECT_TRUE(p.binds_capture("x"));
  EXPECT_FALSE(p.binds("y"));
  EXPECT_EQ(p.trees()[0].operands[0].operands[0].ops, (std::vector<std::string>{"silu", "gelu"}));
}

TEST(PatternTest, CommutativeOpMatchesEitherOperandOrder) {
  ir::Graph graph = parse(R"(input %x : f32[4, 8]
input %r : f32[4, 8]
weight %w : f32[8, 8]
%h = matmul(%x, %w)
%s1 = add(%r, %h)
%s2 = add(%h, %r)
output %s1, %s2
)");
  Pattern p = pattern("s:add(r, h:matmul(x, w))");
  for (const char* site : {"s1", "s2"}) {
    std::vector<Match> matches = match_pattern(p, graph, node_of(graph, site));
    ASSERT_EQ(matches.size(), 1u) << site;
    EXPECT_EQ(matches[0].values.at("r")->name(), "r");
    EXPECT_EQ(matches[0].nodes.at("h")->output()->name(), "h");
    EXPECT_EQ(matches[0].covered.size(), 2u);
  }
}

TEST(PatternTest, NonCommutativeOpKeepsOperandOrder) {
  ir::Graph graph = parse(R"(input %x : f32[4, 8]
weight %w : f32[8, 8]
%h = matmul(%x, %w)
%m = matmul(%h, %w)
output %m
)");
  std::string why;
  EXPECT_TRUE(match_pattern(pattern("y:matmul(w, h:matmul(x, v))"), graph, node_of(graph, "m"), &why).empty());
  EXPECT_EQ(why, "operand 1 of %m = matmul: %w (a weight) is not matmul");
}

TEST(PatternTest, ACaptureNamedTwiceBindsOneValue) {
  ir::Graph graph = parse(R"(input %a : f32[4]
input %b : f32[4]
%same = mul(%a, %a)
%other = mul(%a, %b)
output %same, %other
)");
  Pattern p = pattern("y:mul(x, x)");
  EXPECT_EQ(match_pattern(p, graph, node_of(graph, "same")).size(), 2u);  // both operand orders
  std::string why;
  EXPECT_TRUE(match_pattern(p, graph, node_of(graph, "other"), &why).empty());
  EXPECT_EQ(why, "operand 1 of %other = mul: reads %b, but x is already %a");
}

TEST(PatternTest, LaterTreesAreFoundAmongReadersInProgramOrder) {
  ir::Graph graph = parse(R"(input %x : f32[4, 8]
weight %wq : f32[8, 8]
weight %wk : f32[8, 4]
weight %wv : f32[8, 4]
%q = matmul(%x, %wq)
%unrelated = relu(%x)
%k = matmul(%x, %wk)
%v = matmul(%x, %wv)
output %q, %k, %v, %unrelated
)");
  Pattern p = pattern("q:matmul(x, wq); k:matmul(x, wk); v:matmul(x, wv)");
  std::vector<Match> matches = match_pattern(p, graph, node_of(graph, "q"));
  ASSERT_EQ(matches.size(), 1u);
  ASSERT_EQ(matches[0].roots.size(), 3u);
  EXPECT_EQ(matches[0].roots[1]->output()->name(), "k");
  EXPECT_EQ(matches[0].roots[2]->output()->name(), "v");
  std::string why;
  EXPECT_TRUE(match_pattern(p, graph, node_of(graph, "k"), &why).empty());
  EXPECT_EQ(why, "no other matmul after %v = matmul reads x (%x) (the pattern's v)");
}

TEST(PatternTest, MultiResultNodesAreNeverInsideAPattern) {
  ir::Graph graph = parse(R"(input %a : f32[4, 8]
input %b : f32[4, 8]
weight %g : f32[8]
%s, %n = residual_rmsnorm(%a, %b, %g)
%y = relu(%n)
output %s, %y
)");
  std::string why;
  EXPECT_TRUE(match_pattern(pattern("y:relu(x:*)"), graph, node_of(graph, "y"), &why).empty());
  EXPECT_EQ(why, "operand 0 of %y = relu: %s = residual_rmsnorm has several results");
}

TEST(PatternTest, AnyOperandsAndAnyOp) {
  ir::Graph graph = parse("input %x : f32[4, 8]\nweight %w : f32[8, 8]\n%y = matmul(%x, %w)\noutput %y\n");
  EXPECT_EQ(match_pattern(pattern("y:matmul"), graph, node_of(graph, "y")).size(), 1u);
  EXPECT_EQ(match_pattern(pattern("y:*"), graph, node_of(graph, "y")).size(), 1u);
  std::string why;
  EXPECT_TRUE(match_pattern(pattern("y:rmsnorm"), graph, node_of(graph, "y"), &why).empty());
  EXPECT_EQ(why, "%y = matmul is not rmsnorm");
}

}  // namespace
}  // namespace kiln::passes
