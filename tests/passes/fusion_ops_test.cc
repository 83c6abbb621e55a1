// The fused ops' registry entries (ir/fused_ops.cc): shape inference, the
// verifier's messages, and the text form.

#include "gtest/gtest.h"
#include "ir/op_registry.h"
#include "ir/text.h"
#include "ir/verifier.h"

namespace kiln::ir {
namespace {

TEST(FusedOpsTest, EveryFusedOpIsMarkedAndDocumented) {
  int fused = 0;
  for (const OpDef* def : OpRegistry::global().all()) {
    if (!def->fused) continue;
    ++fused;
    EXPECT_FALSE(def->doc.empty()) << def->name;
  }
  EXPECT_EQ(fused, 11);
}

TEST(FusedOpsTest, TextFormRoundTripsAndInfersEveryResult) {
  const std::string text = R"(symbol T <= 8
input %x : f32[T, 16]
input %r : f32[T, 24]
weight %wg : f32[40, 16]
weight %wu : f32[40, 16]
weight %wd : f32[24, 40]
weight %g : f32[24]
weight %wq : f32[24, 16]
weight %wk : f32[8, 16]
weight %bq : f32[24]
weight %bk : f32[8]
weight %gx : f32[16]
state %kc : f16[32, 2, 4]
state %vc : f16[32, 2, 4]
%f = fused_ffn(%x, %wg, %wu, %wd) {act = "gelu", approximate = "tanh", transpose_b = true} : f32[T, 24]
%m = fused_gate_up(%x, %wg, %wu) {act = "silu", approximate = "none", transpose_b = true} : f32[T, 40]
%h, %n = matmul_rmsnorm(%m, %wd, %g, %r) {eps = 1e-05, transpose_b = true} : f32[T, 24], f32[T, 24]
%s, %y = residual_rmsnorm(%h, %f, %g) {eps = 1e-06} : f32[T, 24], f32[T, 24]
%s2, %y2 = residual_layernorm(%s, %y, %g, %g) {eps = 1e-05} : f32[T, 24], f32[T, 24]
%q, %k, %v = matmul_qkv(%x, %wq, %wk, %wk, %bq, %bk, %bk) {transpose_b = true} : f32[T, 24], f32[T, 8], f32[T, 8]
%o = matmul_residual(%m, %wd, %r) {transpose_b = true} : f32[T, 24]
%l = rmsnorm_matmul(%x, %gx, %wq) {eps = 1e-06, transpose_b = true} : f32[T, 24]
%m2 = rmsnorm_gate_up(%x, %gx, %wg, %wu) {act = "gelu", approximate = "tanh", eps = 1e-05, transpose_b = true} : f32[T, 40]
%qr, %kc2, %vc2 = rmsnorm_qkv_rope(%x, %gx, %wq, %wk, %wk, %kc, %vc, %bq, %bk, %bk) {eps = 1e-05, interleaved = true, rotary_dim = 2, scaling_factor = 1.0, scaling_high_freq_factor = 4.0, scaling_low_freq_factor = 1.0, scaling_original_context = 0, theta = 10000.0, transpose_b = true} : f32[T, 6, 4], f16[32, 2, 4], f16[32, 2, 4]
output %n, %y2, %q, %k, %v, %o, %l, %m2, %qr
)";
  absl::StatusOr<Graph> graph = parse_graph(text);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_TRUE(verify(*graph).ok());
  EXPECT_EQ(print_graph(*graph), text);
}

struct BadNode {
  const char* name;
  const char* node;
  const char* message;
};

class FusedOpErrorTest : public testing::TestWithParam<BadNode> {};

TEST_P(FusedOpErrorTest, NamesTheOperandAndTheRule) {
  const std::string text = absl::StrCat(R"(input %x : f32[4, 16]
input %r : f32[4, 24]
input %r3 : f32[4, 8]
weight %w : f32[16, 24]
weight %w3 : f32[2, 16, 24]
weight %wg : f32[16, 40]
weight %wd : f32[32, 24]
weight %g : f32[24]
weight %g8 : f32[8]
weight %g16 : f32[16]
weight %wq : f32[24, 16]
weight %wk : f32[8, 16]
state %kc : f32[32, 2, 4]
state %kc3 : f32[32, 3, 4]
)",
                                        GetParam().node, "\n");
  absl::StatusOr<Graph> graph = parse_graph(text, "case");
  ASSERT_FALSE(graph.ok());
  EXPECT_NE(graph.status().message().find(GetParam().message), std::string_view::npos) << graph.status();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, FusedOpErrorTest,
    testing::Values(
        BadNode{"ffn_down_contraction", "%f = fused_ffn(%x, %wg, %wg, %wd)",
                "operand 'w_down' (f32[32, 24]): contraction dim 32 must equal the intermediate size 40"},
        BadNode{"ffn_activation", "%f = fused_ffn(%x, %wg, %wg, %wd) {act = \"relu\"}",
                "%f = fused_ffn: attribute 'act' is \"relu\"; expected one of \"silu\", \"gelu\""},
        BadNode{"silu_has_no_tanh_form", "%m = fused_gate_up(%x, %wg, %wg) {approximate = \"tanh\"}",
                "act \"silu\" does not take approximate = \"tanh\""},
        BadNode{"gate_up_widths", "%m = fused_gate_up(%x, %wg, %w)",
                "operand 'w_up' (f32[16, 24]): must project to f32[4, 40] as 'w_gate' does"},
        BadNode{"batched_weight", "%h, %n = matmul_rmsnorm(%x, %w3, %g)",
                "operand 'w' (f32[2, 16, 24]): expected a 2-D weight"},
        BadNode{"residual_shape", "%h, %n = matmul_rmsnorm(%x, %w, %g, %r3)",
                "operand 'residual' (f32[4, 8]): expected f32[4, 24]"},
        BadNode{"gain_shape", "%h, %n = matmul_rmsnorm(%x, %w, %g8)", "operand 'g' (f32[8]): expected shape [24]"},
        BadNode{"residual_operands_differ", "%s, %y = residual_rmsnorm(%r, %r3, %g)",
                "operand 'b' (f32[4, 8]): expected f32[4, 24]"},
        BadNode{"layernorm_beta", "%s, %y = residual_layernorm(%r, %r, %g, %g8)",
                "operand 'beta' (f32[8]): expected shape [24]"},
        BadNode{"qkv_arity", "%q, %k, %v = matmul_qkv(%x, %w, %w, %w, %g)",
                "expected 4 operands, or 7 with biases, got 5"},
        BadNode{"qkv_bias", "%q, %k, %v = matmul_qkv(%x, %w, %w, %w, %g, %g, %g8)",
                "operand 'bv' (f32[8]): expected shape [24]"},
        BadNode{"matmul_residual_shape", "%y = matmul_residual(%x, %w, %r3)",
                "operand 'residual' (f32[4, 8]): expected f32[4, 24]"},
        BadNode{"norm_gain_shape", "%y = rmsnorm_matmul(%x, %g, %w)", "operand 'g' (f32[24]): expected shape [16]"},
        BadNode{"qkv_rope_arity", "%q, %k, %v = rmsnorm_qkv_rope(%x, %g16, %wq, %wk, %wk, %kc, %kc, %g) {rotary_dim = 4}",
                "expected 7 operands, or 10 with biases, got 8"},
        BadNode{"qkv_rope_cache_width",
                "%q, %k, %v = rmsnorm_qkv_rope(%x, %g16, %wq, %wk, %wk, %kc3, %kc3) {rotary_dim = 4, transpose_b = true}",
                "operand 'k_cache' (f32[32, 3, 4]): kv_heads x head_dim must equal the projection's 8 columns"},
        BadNode{"qkv_rope_rotary_dim",
                "%q, %k, %v = rmsnorm_qkv_rope(%x, %g16, %wq, %wk, %wk, %kc, %kc) {rotary_dim = 6, transpose_b = true}",
                "rotary_dim 6 must be even and <= head_dim 4"}),
    [](const testing::TestParamInfo<BadNode>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace kiln::ir
