// Numerical equivalence of every fusion rule, on every backend of the
// conformance harness (tests/backends/conformance_backends.cc): one text
// graph is compiled with the target's fusion rules and run on the backend,
// and compared with the same graph unfused on the cpu plugin, from the same
// inputs and weights, over steps that share one KV cache. The fused Program
// must dispatch each fused kernel the backend's variant table has (a rule
// fires only where the target has a kernel for its result). Sizes are odd
// on purpose (not multiples of 4, 16 or 32), so no kernel can lean on a
// tile size.
//
// Tolerances. In f32 the fused and unfused kernels round at the same points;
// only the order of additions inside a dot product differs (and a GPU sums
// in f32): atol 1e-5, rtol 1e-4 for contractions of up to ~80 terms. In f16
// the unfused graph rounds each intermediate to f16 where a fused kernel
// may keep it in f32, up to one f16 ulp carried through a norm: atol 4e-3,
// rtol 1e-2. A whole decoder block ends in an FFN down projection that sums
// 176 terms of up to ~20 (weights are drawn from [-1, 1)): in f32 on a GPU
// that is good to 176 * 20 * 2^-23 ~ 4e-4, absolute.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/backends/conformance_harness.h"

namespace kiln::backends::testing {

void PrintTo(const ConformanceParam& param, std::ostream* out) { *out << param_name(param); }

namespace {

constexpr Tolerance kF32{1e-5, 1e-4};
constexpr Tolerance kF16{4e-3, 1e-2};
constexpr Tolerance kBlock{4e-4, 1e-4};

// x[T, 37] through a gated FFN of intermediate size 83.
// `weights` is the weights' dtype; activations are f32 (f16 weights under f32
// activations is how most model files run).
std::string ffn(const std::string& bound, const std::string& act, bool transpose_b,
                const std::string& weights = "f32") {
  const std::string w_in = transpose_b ? "[83, 37]" : "[37, 83]";
  const std::string w_out = transpose_b ? "[37, 83]" : "[83, 37]";
  const std::string attrs = transpose_b ? " {transpose_b = true}" : "";
  return absl::StrCat("symbol T <= ", bound, "\ninput %x : f32[T, 37]\nweight %wg : ", weights, w_in, "\nweight %wu : ",
                      weights, w_in, "\nweight %wd : ", weights, w_out, "\n%g = matmul(%x, %wg)", attrs, "\n%a = ", act,
                      "\n%u = matmul(%x, %wu)", attrs, "\n%m = mul(%u, %a)\n%d = matmul(%m, %wd)", attrs,
                      "\noutput %d\n");
}

std::string matmul_rmsnorm(const std::string& dtype, const std::string& weights = "") {
  const std::string& w = weights.empty() ? dtype : weights;
  return absl::StrCat("symbol T <= 1\ninput %x : ", dtype, "[T, 45]\ninput %r : ", dtype, "[T, 67]\nweight %w : ",
                      w, "[67, 45]\nweight %g : ", w,
                      "[67]\n%h = matmul(%x, %w) {transpose_b = true}\n%s = add(%h, %r)\n"
                      "%y = rmsnorm(%s, %g) {eps = 1e-06}\noutput %s, %y\n");
}

// A graph of tests/passes/fuse/.
std::string fuse_case(const std::string& name) {
  return absl::StrCat("file:", KILN_SOURCE_DIR, "/tests/passes/fuse/", name);
}

const std::vector<ir::SymbolValues> kDecodeSteps = {{{"T", 1}}, {{"T", 1}}};

std::vector<OpCase> fusion_cases() {
  return {
      {.name = "fusion_fused_ffn_silu", .graph = ffn("1", "silu(%g)", true), .steps = kDecodeSteps, .tolerance = kF32,
       .fused_kernels = {"fused_ffn"}},
      {.name = "fusion_fused_ffn_gelu", .graph = ffn("1", "gelu(%g)", false), .steps = kDecodeSteps, .tolerance = kF32,
       .fused_kernels = {"fused_ffn"}},
      {.name = "fusion_fused_ffn_gelu_tanh", .graph = ffn("1", "gelu(%g) {approximate = \"tanh\"}", true),
       .steps = kDecodeSteps, .tolerance = kF32, .fused_kernels = {"fused_ffn"}},
      {.name = "fusion_fused_gate_up", .graph = ffn("13", "silu(%g)", true), .steps = {{{"T", 13}}}, .tolerance = kF32,
       .fused_kernels = {"fused_gate_up"}},
      {.name = "fusion_fused_ffn_f16_weights", .graph = ffn("1", "silu(%g)", true, "f16"), .steps = kDecodeSteps,
       .tolerance = kF32, .fused_kernels = {"fused_ffn"}},
      {.name = "fusion_fused_gate_up_bf16_weights", .graph = ffn("13", "silu(%g)", true, "bf16"), .steps = {{{"T", 9}}},
       .tolerance = kF32, .fused_kernels = {"fused_gate_up"}},
      {.name = "fusion_fused_gate_up_short_step", .graph = ffn("13", "gelu(%g)", false), .steps = {{{"T", 5}}},
       .tolerance = kF32, .fused_kernels = {"fused_gate_up"}},
      {.name = "fusion_matmul_rmsnorm_tee", .graph = R"(symbol T <= 1
input %x : f32[T, 37]
weight %w : f32[37, 53]
weight %g : f32[53]
%h = matmul(%x, %w)
%y = rmsnorm(%h, %g)
%z = mul(%h, %y)
output %z
)", .steps = kDecodeSteps, .tolerance = kF32, .fused_kernels = {"matmul_rmsnorm"}},
      {.name = "fusion_matmul_rmsnorm_residual", .graph = matmul_rmsnorm("f32"), .steps = kDecodeSteps, .tolerance = kF32,
       .fused_kernels = {"matmul_rmsnorm"}},
      {.name = "fusion_matmul_rmsnorm_residual_f16", .graph = matmul_rmsnorm("f16"), .steps = kDecodeSteps,
       .tolerance = kF16, .fused_kernels = {"matmul_rmsnorm"}},
      {.name = "fusion_matmul_rmsnorm_residual_f16_weights", .graph = matmul_rmsnorm("f32", "f16"), .steps = kDecodeSteps,
       .tolerance = kF32, .fused_kernels = {"matmul_rmsnorm"}},
      {.name = "fusion_residual_rmsnorm_f16_gain", .graph = R"(symbol T <= 7
input %a : f32[T, 41]
input %b : f32[T, 41]
weight %g : f16[41]
%s = add(%a, %b)
%y = rmsnorm(%s, %g)
output %s, %y
)", .steps = {{{"T", 6}}}, .tolerance = kF32, .fused_kernels = {"residual_rmsnorm"}},
      {.name = "fusion_residual_rmsnorm_in_place", .graph = R"(symbol T <= 7
input %x : f32[T, 41]
input %b : f32[T, 41]
weight %g : f32[41]
%a = scale(%x) {scale = 3.0}
%s = add(%a, %b)
%y = rmsnorm(%s, %g)
%z = add(%s, %y)
output %z
)", .steps = {{{"T", 5}}}, .tolerance = kF32, .fused_kernels = {"residual_rmsnorm"}},
      {.name = "fusion_residual_layernorm_bias", .graph = R"(symbol T <= 9
input %a : f32[T, 23]
input %b : f32[T, 23]
weight %g : f32[23]
weight %beta : f32[23]
%s = add(%a, %b)
%y = layernorm(%s, %g, %beta) {eps = 1e-06}
output %s, %y
)", .steps = {{{"T", 9}}}, .tolerance = kF32, .fused_kernels = {"residual_layernorm"}},
      {.name = "fusion_residual_layernorm", .graph = R"(symbol T <= 9
input %a : f32[T, 23]
input %b : f32[T, 23]
weight %g : f32[23]
%s = add(%a, %b)
%y = layernorm(%s, %g)
output %y
)", .steps = {{{"T", 3}}}, .tolerance = kF32, .fused_kernels = {"residual_layernorm"}},
      {.name = "fusion_matmul_qkv", .graph = R"(symbol T <= 11
input %x : f32[T, 37]
weight %wq : f32[45, 37]
weight %wk : f32[15, 37]
weight %wv : f32[15, 37]
%q = matmul(%x, %wq) {transpose_b = true}
%k = matmul(%x, %wk) {transpose_b = true}
%v = matmul(%x, %wv) {transpose_b = true}
output %q, %k, %v
)", .steps = {{{"T", 7}}}, .tolerance = kF32, .fused_kernels = {"matmul_qkv"}},
      {.name = "fusion_matmul_qkv_bias", .graph = R"(symbol T <= 11
input %x : f32[T, 37]
weight %wq : f32[37, 45]
weight %wk : f32[37, 15]
weight %wv : f32[37, 15]
weight %bq : f32[45]
weight %bk : f32[15]
weight %bv : f32[15]
%q = matmul(%x, %wq, %bq)
%k = matmul(%x, %wk, %bk)
%v = matmul(%x, %wv, %bv)
output %q, %k, %v
)", .steps = {{{"T", 11}}}, .tolerance = kF32, .fused_kernels = {"matmul_qkv"}},
      // Decode steps after each other: every step reads the cache rows the
      // earlier ones wrote.
      {.name = "fusion_llama_block_decode", .graph = fuse_case("llama_block_decode.kir"),
       .steps = {{{"T", 1}, {"P", 0}}, {{"T", 1}, {"P", 1}}, {{"T", 1}, {"P", 2}}, {{"T", 1}, {"P", 3}}},
       .tolerance = kBlock, .gpu_fused_kernels = {"rmsnorm_qkv_rope", "matmul_residual", "rmsnorm_gate_up"},
       .cpu_fused_kernels = {"residual_rmsnorm", "matmul_qkv", "matmul_rmsnorm", "fused_ffn"}},
      // The decode table's whole layer (biases, f16 weights), then the
      // output norm and a head in one product.
      {.name = "fusion_decode_layer_qwen_style", .graph = fuse_case("decode_layer_in_five_gpu_dispatches.kir"),
       .steps = {{{"T", 1}, {"P", 0}}, {{"T", 1}, {"P", 1}}, {{"T", 1}, {"P", 37}}}, .tolerance = kBlock,
       .gpu_fused_kernels = {"rmsnorm_qkv_rope", "matmul_residual", "rmsnorm_gate_up"}},
      {.name = "fusion_rmsnorm_matmul_head", .graph = R"(symbol T <= 1
input %x : f32[T, 72]
weight %g : f32[72]
weight %w : f16[301, 72]
%n = rmsnorm(%x, %g) {eps = 1e-06}
%y = matmul(%n, %w) {transpose_b = true}
output %y
)", .steps = kDecodeSteps, .tolerance = kF32, .gpu_fused_kernels = {"rmsnorm_matmul"}},
      {.name = "fusion_llama_block_prefill", .graph = fuse_case("llama_block_prefill.kir"),
       .steps = {{{"T", 7}, {"P", 0}}, {{"T", 5}, {"P", 7}}}, .tolerance = kBlock,
       .fused_kernels = {"residual_rmsnorm", "matmul_qkv", "fused_gate_up"}},
  };
}

const std::vector<OpCase>& cases() {
  static const std::vector<OpCase> kCases = fusion_cases();
  return kCases;
}

class FusionEquivalenceTest : public ::testing::TestWithParam<ConformanceParam> {};

TEST_P(FusionEquivalenceTest, FusedOnBackendMatchesUnfusedOnCpu) { run_conformance(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Rules, FusionEquivalenceTest, ::testing::ValuesIn(conformance_params(cases())),
                         [](const auto& info) { return param_name(info.param); });

}  // namespace
}  // namespace kiln::backends::testing
