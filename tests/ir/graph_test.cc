#include "gtest/gtest.h"
#include "ir/graph.h"
#include "ir/text.h"

namespace kiln::ir {
namespace {

TEST(GraphTest, UseListsFollowRewrites) {
  absl::StatusOr<Graph> parsed = parse_graph(R"(input %x : f32[4]
%a = silu(%x) : f32[4]
%b = relu(%x) : f32[4]
%c = add(%a, %a) : f32[4]
output %c
)");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  Graph& g = *parsed;
  Value* a = g.find_value("a");
  Value* b = g.find_value("b");
  EXPECT_EQ(a->uses().size(), 2u);
  g.replace_all_uses(a, b);
  EXPECT_TRUE(a->uses().empty());
  EXPECT_EQ(b->uses().size(), 2u);
  ASSERT_TRUE(g.erase_node(a->producer()).ok());
  EXPECT_EQ(g.find_value("a"), nullptr);
  EXPECT_EQ(g.nodes().size(), 2u);
}

TEST(GraphTest, EraseRefusesNodeWithUses) {
  absl::StatusOr<Graph> g = parse_graph("input %x : f32[4]\n%a = silu(%x)\n%b = relu(%a)\noutput %b\n");
  ASSERT_TRUE(g.ok());
  absl::Status status = g->erase_node(g->find_value("a")->producer());
  EXPECT_NE(status.message().find("%a = silu: cannot erase, result %a is still used"), std::string_view::npos)
      << status;
}

TEST(GraphTest, TopologicalSortKeepsOrderAndFixesMisplacedNodes) {
  absl::StatusOr<Graph> g = parse_graph("input %x : f32[4]\n%a = silu(%x)\n%b = relu(%a)\noutput %b\n");
  ASSERT_TRUE(g.ok());
  // Insert a node before its operand's producer, then sort.
  Node* first = g->nodes()[0].get();
  absl::StatusOr<Node*> late = g->add_node("relu", {g->find_value("b")}, {}, {"c"}, first);
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(g->node_index(*late), 0);
  ASSERT_TRUE(g->sort_topologically().ok());
  EXPECT_EQ(g->node_index(*late), 2);
  EXPECT_EQ(g->nodes()[0]->output()->name(), "a");
}

TEST(GraphTest, CycleIsReported) {
  absl::StatusOr<Graph> g = parse_graph("input %x : f32[4]\n%a = silu(%x)\n%b = relu(%a)\noutput %b\n");
  ASSERT_TRUE(g.ok());
  g->set_input(g->find_value("a")->producer(), 0, g->find_value("b"));
  absl::Status status = g->sort_topologically();
  EXPECT_NE(status.message().find("has a cycle"), std::string_view::npos) << status;
}

TEST(GraphTest, UniqueNamesNeverCollide) {
  Graph g;
  ASSERT_TRUE(g.add_input("h", {DType::f32, {Dim(2)}}).ok());
  const std::string name = g.unique_name("%h");
  EXPECT_NE(name, "h");
  EXPECT_EQ(g.unique_name("%fresh"), "fresh");
}

}  // namespace
}  // namespace kiln::ir
