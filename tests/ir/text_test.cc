#include "gtest/gtest.h"
#include "ir/text.h"

namespace kiln::ir {
namespace {

constexpr std::string_view kBlock = R"(symbol P <= 512
symbol T <= 64
input %x : f32[T, 32]
weight %wq : f32[32, 32]
weight %g : f32[32]
state %k_cache : f32[512, 2, 16]
%h = rmsnorm(%x, %g) {eps = 1e-05} : f32[T, 32]
%q = matmul(%h, %wq) {transpose_b = true} : f32[T, 32]
%q3 = reshape(%q) {shape = [T, 2, 16]} : f32[T, 2, 16]
%r = rope(%q3) {interleaved = false, rotary_dim = 16, scaling_factor = 1.0, scaling_high_freq_factor = 4.0, scaling_low_freq_factor = 1.0, scaling_original_context = 0, theta = 10000.0} : f32[T, 2, 16]
%kc = kv_write(%k_cache, %r) : f32[512, 2, 16]
%a = attention(%r, %kc, %kc) {causal = true, scale = 0.25} : f32[T, 2, 16]
%last = slice(%a) {axis = 0, end = 0, start = -1} : f32[1, 2, 16]
%s = gelu(%last) {approximate = "tanh"} : f32[1, 2, 16]
%t = transpose(%s) {perm = [1, 0, 2]} : f32[2, 1, 16]
output %t
)";

TEST(TextTest, PrintParseRoundTripsExactly) {
  absl::StatusOr<Graph> graph = parse_graph(kBlock);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const std::string printed = print_graph(*graph);
  absl::StatusOr<Graph> again = parse_graph(printed);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(print_graph(*again), printed);
}

TEST(TextTest, AnnotationsAreOptionalAndAttributesGetDefaults) {
  absl::StatusOr<Graph> graph = parse_graph(R"(
symbol T <= 8
input %x : f32[T, 4]
weight %w : f32[4, 3]
%y = matmul(%x, %w)   # no type given
output %y
)");
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(print_graph(*graph), R"(symbol T <= 8
input %x : f32[T, 4]
weight %w : f32[4, 3]
%y = matmul(%x, %w) {transpose_b = false} : f32[T, 3]
output %y
)");
}

TEST(TextTest, RealsRoundTripWithAllTheirDigits) {
  absl::StatusOr<Graph> graph = parse_graph("input %x : f32[2]\n%y = scale(%x) {scale = 0.1} : f32[2]\n"
                                            "%z = scale(%y) {scale = 3} : f32[2]\noutput %z\n");
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_NE(print_graph(*graph).find("scale = 0.1}"), std::string::npos);
  EXPECT_NE(print_graph(*graph).find("scale = 3.0}"), std::string::npos);
}

struct BadCase {
  const char* name;
  const char* text;
  const char* message;
};

class TextErrorTest : public testing::TestWithParam<BadCase> {};

TEST_P(TextErrorTest, NamesLineOpAndRule) {
  absl::StatusOr<Graph> graph = parse_graph(GetParam().text, "case.kir");
  ASSERT_FALSE(graph.ok());
  EXPECT_NE(graph.status().message().find(GetParam().message), std::string_view::npos) << graph.status();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, TextErrorTest,
    testing::Values(
        BadCase{"unknown_op", "input %x : f32[2]\n%y = frobnicate(%x)\n", "case.kir:2: %y = frobnicate: unknown op"},
        BadCase{"wrong_arity", "input %x : f32[2]\n%y = add(%x)\n", "%y = add: expected 2 operands, got 1"},
        BadCase{"shape_mismatch", "input %x : f32[2, 3]\nweight %w : f32[4, 5]\n%y = matmul(%x, %w)\n",
                "operand 'b' (f32[4, 5]): dim 4 must equal dim 3 of operand 'a'"},
        BadCase{"dangling", "input %x : f32[2]\n%y = add(%x, %nope)\n", "case.kir:2: %y = add: %nope is not defined"},
        BadCase{"annotation", "input %x : f32[2]\n%y = silu(%x) : f32[3]\n", "annotated f32[3] but infers as f32[2]"},
        BadCase{"undeclared_symbol", "input %x : f32[T, 2]\n", "symbol 'T' is not declared"},
        BadCase{"redefined", "input %x : f32[2]\n%x = silu(%x)\n", "%x is defined twice"},
        BadCase{"bad_attr_type", "input %x : f32[2]\n%y = scale(%x) {scale = \"big\"}\n",
                "attribute 'scale' must be a real"},
        BadCase{"unknown_attr", "input %x : f32[2]\n%y = silu(%x) {alpha = 1}\n", "unknown attribute 'alpha'"},
        BadCase{"missing_attr", "input %x : f32[2]\n%y = scale(%x)\n", "missing required attribute 'scale'"},
        BadCase{"bad_dtype", "input %x : f64[2]\n", "unknown dtype 'f64'"},
        BadCase{"statement", "inptu %x : f32[2]\n", "unknown statement 'inptu'"}),
    [](const testing::TestParamInfo<BadCase>& info) { return info.param.name; });

}  // namespace
}  // namespace kiln::ir
