// Enumerated attributes (AttrSpec::allowed): a string attribute whose value
// must be one of a list. Checked when a node is built (parser, C++ API) and
// by the verifier; the error names the node, the value and every allowed
// name. The Program carries the value's index (tests/passes/scheduler_test.cc).

#include "gtest/gtest.h"
#include "ir/graph.h"
#include "ir/op_registry.h"
#include "ir/text.h"
#include "ir/verifier.h"

namespace kiln::ir {
namespace {

std::string parse_error(std::string_view text) {
  absl::StatusOr<Graph> graph = parse_graph(text);
  EXPECT_FALSE(graph.ok()) << "parsed:\n" << text;
  return graph.ok() ? "" : std::string(graph.status().message());
}

TEST(EnumAttributeTest, GeluApproximationMustBeNoneOrTanh) {
  const std::string message = parse_error(R"(input %x : f32[4]
%y = gelu(%x) {approximate = "fast"}
output %y
)");
  EXPECT_NE(message.find("<text>:2: %y = gelu: attribute 'approximate' is \"fast\"; expected one of \"none\", \"tanh\""),
            std::string::npos)
      << message;
}

TEST(EnumAttributeTest, EveryEnumeratedAttributeIsChecked) {
  EXPECT_NE(parse_error("input %x : f32[4]\n%y = cast(%x) {dtype = \"f64\"}\noutput %y\n")
                .find("%y = cast: attribute 'dtype' is \"f64\"; expected one of \"f32\", \"f16\", \"bf16\", \"i32\""),
            std::string::npos);
  const std::string fused = parse_error(R"(input %x : f32[1, 8]
weight %wg : f32[8, 16]
weight %wu : f32[8, 16]
%y = fused_gate_up(%x, %wg, %wu) {act = "relu"}
output %y
)");
  EXPECT_NE(fused.find("%y = fused_gate_up: attribute 'act' is \"relu\"; expected one of \"silu\", \"gelu\""),
            std::string::npos)
      << fused;
}

TEST(EnumAttributeTest, AllowedValuesAndTheDefaultBuild) {
  absl::StatusOr<Graph> graph = parse_graph(R"(input %x : f32[4]
%a = gelu(%x)
%b = gelu(%a) {approximate = "tanh"}
%c = cast(%b) {dtype = "bf16"}
output %c
)");
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->find_value("a")->producer()->attr_string("approximate"), "none");
  EXPECT_TRUE(verify(*graph).ok()) << verify(*graph);
}

TEST(EnumAttributeTest, TheBuilderApiChecksToo) {
  Graph graph;
  absl::StatusOr<Value*> x = graph.add_input("x", {DType::f32, {Dim(4)}});
  ASSERT_TRUE(x.ok());
  absl::StatusOr<Node*> node = graph.add_node("gelu", {*x}, {{"approximate", std::string("erf")}}, {"y"});
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(std::string(node.status().message()),
            "%y = gelu: attribute 'approximate' is \"erf\"; expected one of \"none\", \"tanh\"");
}

TEST(EnumAttributeTest, AWrongTypeIsATypeError) {
  const std::string message = parse_error("input %x : f32[4]\n%y = gelu(%x) {approximate = 1}\noutput %y\n");
  EXPECT_NE(message.find("%y = gelu: attribute 'approximate' must be a string, got 1"), std::string::npos) << message;
}

TEST(EnumAttributeTest, IndexIsThePositionInTheSchema) {
  const AttrSpec* spec = find_attr_spec(*find_op("gelu"), "approximate");
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(spec->allowed, (std::vector<std::string>{"none", "tanh"}));
  EXPECT_EQ(enum_index(*spec, std::string("none")), 0);
  EXPECT_EQ(enum_index(*spec, std::string("tanh")), 1);
  EXPECT_EQ(enum_index(*spec, std::string("fast")), -1);
  EXPECT_EQ(enum_index(*spec, int64_t{1}), -1);
  const AttrSpec* eps = find_attr_spec(*find_op("rmsnorm"), "eps");
  ASSERT_NE(eps, nullptr);
  EXPECT_EQ(enum_index(*eps, 1e-5), -1);  // not an enumeration
  EXPECT_TRUE(check_attribute(*spec, std::string("tanh")).ok());
  EXPECT_EQ(std::string(check_attribute(*spec, std::string("fast")).message()),
            "attribute 'approximate' is \"fast\"; expected one of \"none\", \"tanh\"");
}

// A schema default is not checked when the node is built (it is the op's
// own), so an op registered with a default outside its list reaches the
// verifier, which names the node.
TEST(EnumAttributeTest, TheVerifierChecksFilledInDefaults) {
  ASSERT_TRUE(OpRegistry::global()
                  .add({.name = "test_enum_bad_default", .doc = "identity with a mode",
                        .operands = {"x"}, .min_inputs = 1, .max_inputs = 1,
                        .attrs = {{"mode", AttrType::string, std::string("bogus"), {"fast", "exact"}}},
                        .infer = [](const InferContext& ctx) -> absl::StatusOr<std::vector<TensorType>> {
                          return std::vector<TensorType>{ctx.inputs[0]};
                        }})
                  .ok());
  Graph graph;
  absl::StatusOr<Value*> x = graph.add_input("x", {DType::f32, {Dim(4)}});
  ASSERT_TRUE(x.ok());
  absl::StatusOr<Node*> node = graph.add_node("test_enum_bad_default", {*x}, {}, {"y"});
  ASSERT_TRUE(node.ok()) << node.status();
  graph.set_outputs({(*node)->output()});
  const absl::Status status = verify(graph);
  EXPECT_NE(std::string(status.message())
                .find("%y = test_enum_bad_default: attribute 'mode' is \"bogus\"; expected one of \"fast\", \"exact\""),
            std::string::npos)
      << status;
}

}  // namespace
}  // namespace kiln::ir
