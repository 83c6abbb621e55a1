#include "gtest/gtest.h"
#include "ir/text.h"
#include "ir/verifier.h"

namespace kiln::ir {
namespace {

TEST(VerifierTest, AcceptsWellFormedGraph) {
  absl::StatusOr<Graph> g = parse_graph("symbol T <= 4\ninput %x : f32[T, 4]\n%a = silu(%x)\noutput %a\n");
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(verify(*g).ok());
}

TEST(VerifierTest, NamesUseBeforeDefinition) {
  absl::StatusOr<Graph> g = parse_graph("input %x : f32[4]\n%a = silu(%x)\n%b = relu(%a)\noutput %b\n");
  ASSERT_TRUE(g.ok());
  Node* first = g->nodes()[0].get();
  ASSERT_TRUE(g->add_node("relu", {g->find_value("b")}, {}, {"c"}, first).ok());
  absl::Status status = verify(*g);
  EXPECT_NE(status.message().find("%c = relu: operand %b is used before it is defined"), std::string_view::npos)
      << status;
}

TEST(VerifierTest, NamesStaleResultType) {
  absl::StatusOr<Graph> g = parse_graph("input %x : f32[4]\n%a = silu(%x)\noutput %a\n");
  ASSERT_TRUE(g.ok());
  g->find_value("a")->set_type({DType::f16, {Dim(4)}});
  absl::Status status = verify(*g);
  EXPECT_NE(status.message().find("%a = silu: result %a has type f16[4] but its operands give f32[4]"),
            std::string_view::npos)
      << status;
}

}  // namespace
}  // namespace kiln::ir
