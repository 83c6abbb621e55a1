// Per-op conformance on every backend (conformance_backends.cc): each case
// is a small graph in the text IR, compiled through the passes for the
// backend, run through its plugin and compared with numpy_reference.py on
// the same values. Sizes are odd on purpose (not multiples of 4, 16 or 32;
// rows wider than a 256-invocation workgroup; contractions of 77 and 300,
// no tile's multiple); steps are decode (T = 1, the gemv variants) and
// prefill (T > 1 after a first step filled the cache, so P > 0); weights
// are f32 and f16. Fused ops are written in the graph, so their kernels are
// tested whatever the fusion rules decide.

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ir/text.h"
#include "passes/compile.h"
#include "tests/backends/conformance_harness.h"
#include "tests/backends/decoder_block_graph.h"

namespace kiln::backends::testing {

// gtest prints a test by its name, not its bytes.
void PrintTo(const ConformanceParam& param, std::ostream* out) { *out << param_name(param); }

namespace {

// ---- Tolerances -------------------------------------------------------------
// The reference computes in f64 and rounds once to each node's dtype; the
// cpu plugin does the same, GPU plugins compute in f32 in their own order.
// Values are drawn from [-1, 1) unless a case says otherwise.

// Copies, layout ops, integer results and conversions: bit-exact everywhere.
constexpr Tolerance kExact{0.0, 0.0};
// One f32 operation rounded once each side: two f32 ulps (2^-22 relative).
constexpr Tolerance kPointwise{1e-9, 2.4e-7};
// exp, tanh and erf are a few ulps on GPUs (GLSL has no erf: the kernels
// use an approximation good to 1.5e-7 absolute).
constexpr Tolerance kTranscendental{1e-6, 2e-6};
// Row reductions (norms, softmax) over up to ~800 values: f32 partial sums
// in tree order and rsqrt are a few ulps of the result.
constexpr Tolerance kRows{2e-6, 1e-5};
// f16 results: the f32 result each side may round to neighbouring f16
// values, one f16 ulp (2^-10 relative; 2^-24 absolute among subnormals).
constexpr Tolerance kF16{6e-8, 1e-3};

// A contraction of length k in f32: at worst one ulp of the running sum
// per term, and terms are at most 1 (drawn from [-1, 1)): k * 2^-22.
constexpr Tolerance products(int64_t k) { return {static_cast<double>(k) * 2.4e-7, 1e-6}; }
// The same rounded to f16.
constexpr Tolerance f16_products(int64_t k) { return {static_cast<double>(k) * 2.4e-7, 1e-3}; }
// Two contractions in a row (fused_ffn, a decoder block): the first's error,
// carried through terms of up to ~sqrt(k1), plus the second's.
constexpr Tolerance chain(int64_t k1, int64_t k2) {
  return {static_cast<double>(k1 + k2) * 2.4e-7 * 8, 1e-5};
}
// rope: a GPU computes the angle (P + t) * theta^(-2i/d) in f32, one ulp of
// an angle up to `positions` radians, then sin and cos of it.
constexpr Tolerance rope(int64_t positions) { return {static_cast<double>(positions) * 2.4e-7 + 1e-6, 2e-6}; }
// attention: dot products over the head dim, a softmax over the keys and
// a weighted sum of values drawn from [-2, 2).
constexpr Tolerance kAttention{2e-5, 1e-5};

// The matrix-product variants (kernels/*/kernel_table.cc), each forced where
// its variant-table row could pick it: the one-row kernels where the
// product has one row, cooperative matrices for f16 weights, the tiled
// kernel everywhere.
const std::vector<std::string> kOneRowVariants = {"gemv", "gemv_subgroup", "tiled"};
const std::vector<std::string> kManyRowVariants = {"tiled"};
// The decode fusions' products have the matrix-vector schedules only.
const std::vector<std::string> kRowProductVariants = {"gemv", "gemv_subgroup"};
// Cooperative matrices multiply f16 activations too (the variant is opt-in,
// --force-variant matmul=coopmat): their own cases, with f16's tolerance.
const std::vector<std::string> kCooperativeMatrix = {"coopmat"};
// top_k: the one-workgroup kernel (Vulkan's reference, OpenCL's workgroup)
// and the split one, each forced on every top_k case.
const std::vector<std::string> kTopKVariants = {"reference", "workgroup", "split"};
// attention: every kernel, each forced on the decode cases (Vulkan's
// reference, split and decode; OpenCL's workgroup and decode); Vulkan's
// split and the decode kernels, which loop over rows, on the prefill ones
// too (k not a cache, its rows symbolic, included).
const std::vector<std::string> kAttentionDecodeVariants = {"reference", "workgroup", "split", "decode"};
const std::vector<std::string> kAttentionPrefillVariants = {"decode", "split"};
// Each activation and weight rounded to f16 (2^-11 relative), summed over
// k terms of up to 1 in magnitude: about sqrt(k) * 2^-11, twice that here.
Tolerance f16_activation_products(int64_t k) { return {2 * 4.9e-4 * std::sqrt(static_cast<double>(k)), 2e-3}; }

// ---- Cases --------------------------------------------------------------------

std::vector<OpCase> primitive_cases() {
  return {
      {.name = "embedding_f32", .op = "embedding", .graph = R"(symbol T <= 8
input %ids : i32[T]
weight %table : f32[53, 13]
%e = embedding(%table, %ids)
output %e)", .steps = {{{"T", 7}}}, .tolerance = kExact, .id_limit = 53},
      {.name = "embedding_f16_table_2d_ids", .op = "embedding", .graph = R"(input %ids : i32[3, 5]
weight %table : f16[29, 11]
%e = embedding(%table, %ids)
output %e)", .tolerance = kExact, .id_limit = 29},
      {.name = "embedding_wide_rows_decode", .op = "embedding", .graph = R"(symbol T <= 1
input %ids : i32[T]
weight %table : f16[517, 301]
%e = embedding(%table, %ids)
output %e)", .steps = {{{"T", 1}}, {{"T", 1}}}, .tolerance = kExact, .id_limit = 517},

      {.name = "matmul_plain", .op = "matmul", .graph = R"(input %a : f32[7, 19]
weight %b : f32[19, 11]
%y = matmul(%a, %b)
output %y)", .tolerance = products(19), .force = kManyRowVariants},
      {.name = "matmul_transpose_b_bias_f16_weights", .op = "matmul", .graph = R"(symbol T <= 8
input %x : f32[T, 37]
weight %w : f16[23, 37]
weight %bias : f32[23]
%y = matmul(%x, %w, %bias) {transpose_b = true}
output %y)", .steps = {{{"T", 5}}}, .tolerance = products(37), .force = kManyRowVariants},
      {.name = "matmul_f16_activations_bias", .op = "matmul", .graph = R"(symbol T <= 8
input %x : f32[T, 37]
weight %w : f16[23, 37]
weight %bias : f32[23]
%y = matmul(%x, %w, %bias) {transpose_b = true}
output %y)", .steps = {{{"T", 5}}}, .tolerance = f16_activation_products(37), .force = kCooperativeMatrix},
      {.name = "matmul_prefill_wide", .op = "matmul", .graph = R"(symbol T <= 40
input %x : f32[T, 77]
weight %w : f16[300, 77]
%y = matmul(%x, %w) {transpose_b = true}
output %y)", .steps = {{{"T", 37}}, {{"T", 3}}}, .tolerance = products(77), .force = kManyRowVariants},
      {.name = "matmul_f16_activations_wide", .op = "matmul", .graph = R"(symbol T <= 40
input %x : f32[T, 77]
weight %w : f16[300, 77]
%y = matmul(%x, %w) {transpose_b = true}
output %y)", .steps = {{{"T", 37}}, {{"T", 3}}}, .tolerance = f16_activation_products(77), .force = kCooperativeMatrix},
      {.name = "matmul_decode_wide", .op = "matmul", .graph = R"(symbol T <= 1
input %x : f32[T, 300]
weight %w : f32[333, 300]
%y = matmul(%x, %w) {transpose_b = true}
output %y)", .steps = {{{"T", 1}}}, .tolerance = products(300), .force = kOneRowVariants},
      {.name = "matmul_decode_f16_weights_bias", .op = "matmul", .graph = R"(symbol T <= 1
input %x : f32[T, 77]
weight %w : f16[77, 261]
weight %bias : f32[261]
%y = matmul(%x, %w, %bias)
output %y)", .steps = {{{"T", 1}}, {{"T", 1}}}, .tolerance = products(77), .force = kOneRowVariants},
      {.name = "matmul_one_static_row", .op = "matmul", .graph = R"(input %x : f32[1, 45]
weight %w : f32[45, 19]
%y = matmul(%x, %w)
output %y)", .tolerance = products(45), .force = kOneRowVariants},
      {.name = "matmul_batched_b", .op = "matmul", .graph = R"(input %a : f32[3, 5, 9]
input %b : f32[3, 9, 7]
%y = matmul(%a, %b)
output %y)", .tolerance = products(9)},
      {.name = "matmul_batched_a_shared_transposed_b", .op = "matmul", .graph = R"(symbol T <= 4
input %a : f32[2, T, 9]
weight %b : f32[7, 9]
%y = matmul(%a, %b) {transpose_b = true}
output %y)", .steps = {{{"T", 3}}}, .tolerance = products(9)},
      {.name = "matmul_f16_activations", .op = "matmul", .graph = R"(input %a : f16[5, 33]
weight %b : f16[33, 6]
%y = matmul(%a, %b)
output %y)", .tolerance = f16_products(33), .force = kManyRowVariants},
      {.name = "matmul_batched_transposed_b", .op = "matmul", .graph = R"(input %q : f32[3, 4, 13]
input %k : f32[3, 6, 13]
%s = matmul(%q, %k) {transpose_b = true}
output %s)", .tolerance = products(13)},

      {.name = "add_broadcast", .op = "add", .graph = R"(symbol T <= 8
input %a : f32[T, 3, 7]
weight %b : f32[7]
%y = add(%a, %b)
output %y)", .steps = {{{"T", 5}}}, .tolerance = kPointwise},
      {.name = "add_f16_same_shape", .op = "add", .graph = R"(input %a : f16[5, 9]
input %b : f16[5, 9]
%y = add(%a, %b)
output %y)", .tolerance = kF16},
      {.name = "add_wide_rows", .op = "add", .graph = R"(symbol T <= 4
input %a : f32[T, 301]
input %b : f32[T, 301]
%y = add(%a, %b)
output %y)", .steps = {{{"T", 3}}}, .tolerance = kPointwise},
      {.name = "mul_broadcast_two_dims", .op = "mul", .graph = R"(input %a : f32[2, 3, 7]
input %b : f32[3, 7]
%y = mul(%a, %b)
output %y)", .tolerance = kPointwise},
      {.name = "scale", .op = "scale", .graph = R"(input %x : f32[3, 29]
%y = scale(%x) {scale = -0.37}
output %y)", .tolerance = kPointwise},
      {.name = "silu", .op = "silu", .graph = R"(input %x : f32[3, 29]
%y = silu(%x)
output %y)", .tolerance = kTranscendental, .input_range = 6.0},
      {.name = "silu_f16_wide", .op = "silu", .graph = R"(input %x : f16[2, 301]
%y = silu(%x)
output %y)", .tolerance = kF16, .input_range = 6.0},
      {.name = "gelu_erf", .op = "gelu", .graph = R"(input %x : f32[3, 29]
%y = gelu(%x)
output %y)", .tolerance = kTranscendental, .input_range = 5.0},
      {.name = "gelu_tanh", .op = "gelu", .graph = R"(input %x : f32[3, 29]
%y = gelu(%x) {approximate = "tanh"}
output %y)", .tolerance = kTranscendental, .input_range = 5.0},
      {.name = "relu_f16", .op = "relu", .graph = R"(input %x : f16[3, 29]
%y = relu(%x)
output %y)", .tolerance = kExact},

      {.name = "rmsnorm", .op = "rmsnorm", .graph = R"(symbol T <= 8
input %x : f32[T, 67]
weight %w : f32[67]
%y = rmsnorm(%x, %w) {eps = 1e-06}
output %y)", .steps = {{{"T", 3}}}, .tolerance = kRows, .input_range = 3.0},
      {.name = "rmsnorm_f16", .op = "rmsnorm", .graph = R"(input %x : f16[4, 33]
weight %w : f32[33]
%y = rmsnorm(%x, %w)
output %y)", .tolerance = kF16},
      {.name = "rmsnorm_wide_decode_f16_gain", .op = "rmsnorm", .graph = R"(symbol T <= 1
input %x : f32[T, 777]
weight %w : f16[777]
%y = rmsnorm(%x, %w)
output %y)", .steps = {{{"T", 1}}}, .tolerance = kRows},
      {.name = "layernorm_bias", .op = "layernorm", .graph = R"(input %x : f32[5, 45]
weight %w : f32[45]
weight %b : f32[45]
%y = layernorm(%x, %w, %b) {eps = 0.001}
output %y)", .tolerance = kRows, .input_range = 2.0},
      {.name = "layernorm_no_bias", .op = "layernorm", .graph = R"(input %x : f32[2, 3, 19]
weight %w : f32[19]
%y = layernorm(%x, %w)
output %y)", .tolerance = kRows},
      {.name = "layernorm_wide", .op = "layernorm", .graph = R"(input %x : f32[2, 777]
weight %w : f32[777]
weight %b : f32[777]
%y = layernorm(%x, %w, %b)
output %y)", .tolerance = kRows},
      {.name = "softmax", .op = "softmax", .graph = R"(input %x : f32[4, 3, 33]
%y = softmax(%x)
output %y)", .tolerance = kRows, .input_range = 8.0},
      {.name = "softmax_wide", .op = "softmax", .graph = R"(input %x : f32[3, 777]
%y = softmax(%x)
output %y)", .tolerance = kRows, .input_range = 8.0},

      {.name = "rope_halves", .op = "rope", .graph = R"(symbol P <= 64
symbol T <= 8
input %x : f32[T, 3, 16]
%y = rope(%x) {rotary_dim = 16}
output %y)", .steps = {{{"P", 5}, {"T", 3}}}, .tolerance = rope(8)},
      {.name = "rope_interleaved_partial", .op = "rope", .graph = R"(symbol P <= 64
symbol T <= 8
input %x : f32[T, 2, 14]
%y = rope(%x) {rotary_dim = 8, interleaved = true, theta = 500.0}
output %y)", .steps = {{{"P", 7}, {"T", 2}}}, .tolerance = rope(9)},
      {.name = "rope_llama3_scaling", .op = "rope", .graph = R"(symbol P <= 4096
symbol T <= 8
input %x : f32[T, 2, 64]
%y = rope(%x) {rotary_dim = 64, theta = 500000.0, scaling_factor = 8.0, scaling_low_freq_factor = 1.0, scaling_high_freq_factor = 4.0, scaling_original_context = 8192}
output %y)", .steps = {{{"P", 3001}, {"T", 3}}}, .tolerance = rope(3004)},
      {.name = "rope_decode_odd_heads", .op = "rope", .graph = R"(symbol P <= 64
symbol T <= 1
input %x : f32[T, 5, 22]
%y = rope(%x) {rotary_dim = 22}
output %y)", .steps = {{{"P", 0}, {"T", 1}}, {{"P", 1}, {"T", 1}}, {{"P", 41}, {"T", 1}}}, .tolerance = rope(42)},

      {.name = "attention_gqa_causal_prefill", .op = "attention", .graph = R"(symbol P <= 16
symbol T <= 8
input %q : f32[T, 8, 16]
input %k : f32[T, 2, 16]
input %v : f32[T, 2, 16]
state %kc : f32[16, 2, 16]
state %vc : f32[16, 2, 16]
%kc2 = kv_write(%kc, %k)
%vc2 = kv_write(%vc, %v)
%o = attention(%q, %kc2, %vc2)
output %o)", .steps = {{{"P", 0}, {"T", 5}}, {{"P", 5}, {"T", 3}}}, .tolerance = kAttention,
       .force = kAttentionPrefillVariants, .input_range = 2.0},
      {.name = "attention_mqa_f16_cache_odd_head_dim", .op = "attention", .graph = R"(symbol P <= 16
symbol T <= 4
input %q : f32[T, 3, 13]
input %k : f32[T, 1, 13]
input %v : f32[T, 1, 13]
state %kc : f16[11, 1, 13]
state %vc : f16[11, 1, 13]
%kc2 = kv_write(%kc, %k)
%vc2 = kv_write(%vc, %v)
%o = attention(%q, %kc2, %vc2) {scale = 0.3}
output %o)", .steps = {{{"P", 0}, {"T", 4}}, {{"P", 4}, {"T", 4}}, {{"P", 8}, {"T", 3}}}, .tolerance = kAttention,
       .force = kAttentionPrefillVariants, .input_range = 2.0},
      {.name = "attention_decode", .op = "attention", .graph = R"(symbol P <= 15
symbol T <= 1
input %q : f32[T, 6, 24]
input %k : f32[T, 3, 24]
input %v : f32[T, 3, 24]
state %kc : f32[15, 3, 24]
state %vc : f32[15, 3, 24]
%kc2 = kv_write(%kc, %k)
%vc2 = kv_write(%vc, %v)
%o = attention(%q, %kc2, %vc2)
output %o)", .steps = {{{"P", 0}, {"T", 1}}, {{"P", 1}, {"T", 1}}, {{"P", 2}, {"T", 1}}, {{"P", 3}, {"T", 1}}},
       .tolerance = kAttention, .force = kAttentionDecodeVariants, .input_range = 2.0},
      // Decode over a cache of up to 300 rows (several blocks of a split
      // kernel); the rows no step writes stay zero on both sides.
      {.name = "attention_decode_long_cache_f16", .op = "attention", .graph = R"(symbol P <= 299
symbol T <= 1
input %q : f32[T, 8, 16]
input %k : f32[T, 2, 16]
input %v : f32[T, 2, 16]
state %kc : f16[300, 2, 16]
state %vc : f16[300, 2, 16]
%kc2 = kv_write(%kc, %k)
%vc2 = kv_write(%vc, %v)
%o = attention(%q, %kc2, %vc2)
output %o)", .steps = {{{"P", 0}, {"T", 1}}, {{"P", 1}, {"T", 1}}, {{"P", 130}, {"T", 1}}, {{"P", 299}, {"T", 1}}},
       .tolerance = kAttention, .force = kAttentionDecodeVariants, .input_range = 2.0},
      // Decode past one block of the decode kernel (256 keys): exactly one
      // block (P 255), a second of one key (P 256), three (P 699); GQA
      // groups of 4 at Llama-3.2-1B's head dim, the f16 cache.
      {.name = "attention_decode_three_blocks_gqa4_f16", .op = "attention", .graph = R"(symbol P <= 699
symbol T <= 1
input %q : f32[T, 8, 64]
input %k : f32[T, 2, 64]
input %v : f32[T, 2, 64]
state %kc : f16[700, 2, 64]
state %vc : f16[700, 2, 64]
%kc2 = kv_write(%kc, %k)
%vc2 = kv_write(%vc, %v)
%o = attention(%q, %kc2, %vc2)
output %o)", .steps = {{{"P", 0}, {"T", 1}}, {{"P", 255}, {"T", 1}}, {{"P", 256}, {"T", 1}}, {{"P", 511}, {"T", 1}},
                 {{"P", 699}, {"T", 1}}},
       .tolerance = kAttention, .force = kAttentionDecodeVariants, .input_range = 2.0},
      // Within one block, written straight to the output; a group of one,
      // an odd head dim (no vector loads).
      {.name = "attention_decode_one_block_group1_odd_head_dim", .op = "attention", .graph = R"(symbol P <= 199
symbol T <= 1
input %q : f32[T, 3, 37]
input %k : f32[T, 3, 37]
input %v : f32[T, 3, 37]
state %kc : f32[200, 3, 37]
state %vc : f32[200, 3, 37]
%kc2 = kv_write(%kc, %k)
%vc2 = kv_write(%vc, %v)
%o = attention(%q, %kc2, %vc2) {scale = 0.2}
output %o)", .steps = {{{"P", 0}, {"T", 1}}, {{"P", 1}, {"T", 1}}, {{"P", 100}, {"T", 1}}, {{"P", 199}, {"T", 1}}},
       .tolerance = kAttention, .force = kAttentionDecodeVariants, .input_range = 2.0},
      // Twelve query heads on one kv head and rows of 80: more heads than
      // the decode kernel's registers take at once (several rounds), K rows
      // read in chunks, V after the scores.
      {.name = "attention_decode_mqa_12_heads_head_dim_80", .op = "attention", .graph = R"(symbol P <= 299
symbol T <= 1
input %q : f32[T, 12, 80]
input %k : f32[T, 1, 80]
input %v : f32[T, 1, 80]
state %kc : f16[300, 1, 80]
state %vc : f16[300, 1, 80]
%kc2 = kv_write(%kc, %k)
%vc2 = kv_write(%vc, %v)
%o = attention(%q, %kc2, %vc2)
output %o)", .steps = {{{"P", 0}, {"T", 1}}, {{"P", 200}, {"T", 1}}, {{"P", 299}, {"T", 1}}},
       .tolerance = kAttention, .force = kAttentionDecodeVariants, .input_range = 2.0},
      {.name = "attention_keys_beyond_a_workgroup", .op = "attention", .graph = R"(symbol P <= 300
symbol T <= 290
input %q : f32[T, 4, 8]
input %k : f32[T, 2, 8]
input %v : f32[T, 2, 8]
state %kc : f32[300, 2, 8]
state %vc : f32[300, 2, 8]
%kc2 = kv_write(%kc, %k)
%vc2 = kv_write(%vc, %v)
%o = attention(%q, %kc2, %vc2)
output %o)", .steps = {{{"P", 0}, {"T", 290}}, {{"P", 290}, {"T", 1}}, {{"P", 291}, {"T", 7}}},
       .tolerance = kAttention, .force = kAttentionPrefillVariants, .input_range = 2.0},
      {.name = "attention_not_causal_without_past", .op = "attention", .graph = R"(symbol T <= 8
input %q : f32[T, 4, 8]
input %k : f32[T, 2, 8]
input %v : f32[T, 2, 8]
%o = attention(%q, %k, %v) {causal = false}
output %o)", .steps = {{{"T", 5}}}, .tolerance = kAttention, .force = kAttentionPrefillVariants, .input_range = 2.0},
      // k and v not a cache, past one block of the decode kernel and of a
      // different length each step: its scratch records move between steps.
      {.name = "attention_not_causal_keys_beyond_a_block", .op = "attention", .graph = R"(symbol T <= 600
input %q : f32[T, 2, 8]
input %k : f32[T, 1, 8]
input %v : f32[T, 1, 8]
%o = attention(%q, %k, %v) {causal = false}
output %o)", .steps = {{{"T", 300}}, {{"T", 530}}, {{"T", 270}}}, .tolerance = kAttention,
       .force = kAttentionPrefillVariants, .input_range = 2.0},
      // The output is the state itself.
      {.name = "kv_write_f16_cache", .op = "kv_write", .graph = R"(symbol P <= 16
symbol T <= 4
input %x : f32[T, 3, 5]
state %cache : f16[9, 3, 5]
%c = kv_write(%cache, %x)
output %c)", .steps = {{{"P", 0}, {"T", 2}}, {{"P", 3}, {"T", 4}}}, .tolerance = kExact},
      // The cache is read back from the state, and through a copy in the
      // arena (scale by 1).
      {.name = "kv_write_decode", .op = "kv_write", .graph = R"(symbol P <= 16
symbol T <= 1
input %x : f32[T, 2, 7]
state %cache : f32[16, 2, 7]
%c = kv_write(%cache, %x)
%y = scale(%c) {scale = 1.0}
output %y)", .steps = {{{"P", 0}, {"T", 1}}, {{"P", 1}, {"T", 1}}, {{"P", 15}, {"T", 1}}}, .tolerance = kExact},

      {.name = "transpose_swap_leading", .op = "transpose", .graph = R"(input %x : f32[3, 5, 7]
%y = transpose(%x) {perm = [1, 0, 2]}
output %y)", .tolerance = kExact},
      {.name = "transpose_rotate_f16", .op = "transpose", .graph = R"(input %x : f16[3, 5, 7]
%y = transpose(%x) {perm = [2, 0, 1]}
output %y)", .tolerance = kExact},
      {.name = "transpose_wide_matrix", .op = "transpose", .graph = R"(input %x : f32[3, 301]
%y = transpose(%x) {perm = [1, 0]}
output %y)", .tolerance = kExact},
      {.name = "concat_three", .op = "concat", .graph = R"(input %a : f32[3, 2, 5]
input %b : f32[3, 4, 5]
input %c : f32[3, 1, 5]
%y = concat(%a, %b, %c) {axis = 1}
output %y)", .tolerance = kExact},
      {.name = "concat_last_axis_symbolic_rows", .op = "concat", .graph = R"(symbol T <= 8
input %a : f32[T, 5]
input %b : f32[T, 2]
%y = concat(%a, %b) {axis = -1}
output %y)", .steps = {{{"T", 3}}}, .tolerance = kExact},
      {.name = "transpose_rank4_symbolic_rows", .op = "transpose", .graph = R"(symbol T <= 8
input %x : f32[T, 3, 4, 5]
%y = transpose(%x) {perm = [2, 0, 3, 1]}
output %y)", .steps = {{{"T", 3}}}, .tolerance = kExact},
      {.name = "concat_four_f16_symbolic_inner", .op = "concat", .graph = R"(symbol T <= 8
input %a : f16[2, T, 3]
input %b : f16[1, T, 3]
input %c : f16[3, T, 3]
input %d : f16[1, T, 3]
%y = concat(%a, %b, %c, %d) {axis = 0}
output %y)", .steps = {{{"T", 5}}}, .tolerance = kExact},
      {.name = "slice_static", .op = "slice", .graph = R"(input %x : f32[4, 9]
%y = slice(%x) {axis = 1, start = 2, end = -1}
output %y)", .tolerance = kExact},
      {.name = "slice_last_token", .op = "slice", .graph = R"(symbol T <= 8
input %x : f32[T, 11]
%y = slice(%x) {axis = 0, start = -1}
output %y)", .steps = {{{"T", 5}}}, .tolerance = kExact},
      {.name = "argmax_rows", .op = "argmax", .graph = R"(symbol T <= 8
input %x : f32[T, 37]
%y = argmax(%x)
output %y)", .steps = {{{"T", 4}}}, .tolerance = kExact},
      {.name = "argmax_vector_f16", .op = "argmax", .graph = R"(input %x : f16[41]
%y = argmax(%x)
output %y)", .tolerance = kExact},
      {.name = "argmax_wide_rows_first_of_ties", .op = "argmax", .graph = R"(input %x : f32[2, 1001]
%y = argmax(%x)
output %y)", .tolerance = kExact, .quantum = 0.25},

      {.name = "top_k_decode", .op = "top_k", .graph = R"(symbol T <= 1
input %logits : f32[T, 300]
%ids, %values = top_k(%logits) {k = 7}
output %ids, %values)", .steps = {{{"T", 1}}}, .tolerance = kExact, .force = kTopKVariants,
       .input_range = 10.0},
      {.name = "top_k_prefill_last_row_penalty", .op = "top_k", .graph = R"(symbol T <= 8
input %logits : f32[T, 1237]
input %recent : i32[13]
%ids, %values = top_k(%logits, %recent) {k = 40, penalty = 1.5}
output %ids, %values)", .steps = {{{"T", 5}}}, .tolerance = kExact, .force = kTopKVariants,
       .input_range = 10.0, .id_min = -1, .id_limit = 1237},
      {.name = "top_k_ties_penalty", .op = "top_k", .graph = R"(symbol T <= 1
input %logits : f32[T, 300]
input %recent : i32[64]
%ids, %values = top_k(%logits, %recent) {k = 50, penalty = 2.0}
output %ids, %values)", .steps = {{{"T", 1}}}, .tolerance = kExact, .force = kTopKVariants,
       .input_range = 2.0, .quantum = 0.25, .id_min = -1, .id_limit = 300},
      {.name = "top_k_one_boosted_repeats", .op = "top_k", .graph = R"(input %logits : f32[1, 301]
input %recent : i32[40]
%ids, %values = top_k(%logits, %recent) {k = 1, penalty = 0.5}
output %ids, %values)", .tolerance = kExact, .force = kTopKVariants, .input_range = 4.0, .id_min = -1,
       .id_limit = 12},
      {.name = "top_k_recent_without_penalty", .op = "top_k", .graph = R"(input %logits : f32[2, 77]
input %recent : i32[5]
%ids, %values = top_k(%logits, %recent) {k = 77}
output %ids, %values)", .tolerance = kExact, .force = kTopKVariants, .input_range = 3.0, .id_limit = 77},

      // Long rows, which the GPU tables split across workgroups (one per
      // 1024 logits, merged by the last): a vocabulary's worth, odd rows
      // whose last slice is short (shorter than k, too), ties across
      // slices (quantum), NaN (ranked as -inf) and infinities.
      {.name = "top_k_vocab_128256_penalty", .op = "top_k", .graph = R"(symbol T <= 1
input %logits : f32[T, 128256]
input %recent : i32[64]
%ids, %values = top_k(%logits, %recent) {k = 40, penalty = 1.5}
output %ids, %values)", .steps = {{{"T", 1}}}, .tolerance = kExact, .force = kTopKVariants,
       .input_range = 10.0, .id_min = -1, .id_limit = 128256},
      {.name = "top_k_long_odd_row_k1_ties", .op = "top_k", .graph = R"(input %logits : f32[1, 50021]
%ids, %values = top_k(%logits) {k = 1}
output %ids, %values)", .tolerance = kExact, .force = kTopKVariants, .input_range = 10.0, .quantum = 0.25},
      {.name = "top_k_long_odd_row_last_of_prefill_ties", .op = "top_k", .graph = R"(symbol T <= 4
input %logits : f32[T, 50021]
input %recent : i32[97]
%ids, %values = top_k(%logits, %recent) {k = 40, penalty = 2.0}
output %ids, %values)", .steps = {{{"T", 3}}}, .tolerance = kExact, .force = kTopKVariants,
       .input_range = 10.0, .quantum = 0.25, .id_min = -1, .id_limit = 50021},
      {.name = "top_k_last_slice_shorter_than_k", .op = "top_k", .graph = R"(input %logits : f32[1, 4100]
%ids, %values = top_k(%logits) {k = 40}
output %ids, %values)", .tolerance = kExact, .force = kTopKVariants, .input_range = 4.0, .quantum = 0.5},
      {.name = "top_k_infinities", .op = "top_k", .graph = R"(input %logits : f32[1, 5003]
%ids, %values = top_k(%logits) {k = 40}
output %ids, %values)", .tolerance = kExact, .force = kTopKVariants, .special_every = 7},
      // k past a slice (1024): whole lists taken, the short last one too.
      {.name = "top_k_whole_row_nan_last", .op = "top_k", .graph = R"(input %logits : f32[1, 2500]
input %recent : i32[31]
%ids, %values = top_k(%logits, %recent) {k = 2500, penalty = 2.0}
output %ids, %values)", .tolerance = kExact, .force = kTopKVariants, .input_range = 2.0, .quantum = 0.25,
       .special_every = 3, .id_min = -1, .id_limit = 2500},
      // 5,000 rounds (the split kernel's merge after slices of 1,024): past
      // lavapipe's 65,535 loop iterations an invocation unless a round costs
      // one (top_k_split.comp, top_k_reference.comp).
      {.name = "top_k_whole_row_5000", .op = "top_k", .graph = R"(input %logits : f32[1, 5000]
%ids, %values = top_k(%logits) {k = 5000}
output %ids, %values)", .tolerance = kExact, .force = kTopKVariants, .input_range = 4.0, .quantum = 0.5,
       .special_every = 5},

      {.name = "cast_f32_to_f16", .op = "cast", .graph = R"(input %x : f32[3, 7]
%y = cast(%x) {dtype = "f16"}
output %y)", .tolerance = kExact, .input_range = 100.0},
      {.name = "cast_f16_to_f32", .op = "cast", .graph = R"(input %x : f16[3, 7]
%y = cast(%x) {dtype = "f32"}
output %y)", .tolerance = kExact},
      {.name = "cast_f32_to_i32", .op = "cast", .graph = R"(input %x : f32[3, 7]
%y = cast(%x) {dtype = "i32"}
output %y)", .tolerance = kExact, .input_range = 100.0},
      {.name = "cast_i32_to_f32", .op = "cast", .graph = R"(input %x : i32[3, 7]
%y = cast(%x) {dtype = "f32"}
output %y)", .tolerance = kExact, .id_limit = 1000},
      // Counts past one workgroup's block, not a multiple of 8: a GPU's
      // 16-byte path for the whole packets (a copy, f16 <-> f32), its
      // scalar path for the tail; the first has symbolic rows, run below
      // their bound.
      {.name = "cast_copy_odd_count_symbolic_rows", .op = "cast", .graph = R"(symbol T <= 64
input %x : f32[T, 1001]
%y = cast(%x) {dtype = "f32"}
output %y)", .steps = {{{"T", 37}}}, .tolerance = kExact, .input_range = 100.0},
      {.name = "cast_f32_to_f16_odd_count", .op = "cast", .graph = R"(input %x : f32[37, 1001]
%y = cast(%x) {dtype = "f16"}
output %y)", .tolerance = kExact, .input_range = 100.0},
      {.name = "cast_f16_to_f32_odd_count", .op = "cast", .graph = R"(input %x : f16[37, 1001]
%y = cast(%x) {dtype = "f32"}
output %y)", .tolerance = kExact},
      {.name = "cast_copy_f16_odd_count", .op = "cast", .graph = R"(input %x : f16[5, 8203]
%y = cast(%x) {dtype = "f16"}
output %y)", .tolerance = kExact},

      {.name = "decoder_attention_block",
       .op = "",
       .graph = std::string(kDecoderAttentionBlock),
       .steps = {{{"P", 0}, {"T", 8}}, {{"P", 8}, {"T", 4}}}, .tolerance = chain(24, 24)},
  };
}

// Fused ops, each as ir/fused_ops.cc defines it.
std::vector<OpCase> fused_cases() {
  return {
      {.name = "fused_ffn_decode_silu", .op = "fused_ffn", .graph = R"(symbol T <= 1
input %x : f32[T, 77]
weight %wg : f32[261, 77]
weight %wu : f32[261, 77]
weight %wd : f32[45, 261]
%y = fused_ffn(%x, %wg, %wu, %wd) {act = "silu", transpose_b = true}
output %y)", .steps = {{{"T", 1}}}, .tolerance = chain(77, 261)},
      {.name = "fused_ffn_gelu_tanh_f16_weights", .op = "fused_ffn", .graph = R"(input %x : f32[1, 37]
weight %wg : f16[37, 83]
weight %wu : f16[37, 83]
weight %wd : f16[83, 37]
%y = fused_ffn(%x, %wg, %wu, %wd) {act = "gelu", approximate = "tanh"}
output %y)", .tolerance = chain(37, 83)},
      {.name = "fused_gate_up_decode_silu", .op = "fused_gate_up", .graph = R"(symbol T <= 1
input %x : f32[T, 300]
weight %wg : f16[261, 300]
weight %wu : f16[261, 300]
%y = fused_gate_up(%x, %wg, %wu) {act = "silu", transpose_b = true}
output %y)", .steps = {{{"T", 1}}, {{"T", 1}}}, .tolerance = chain(300, 0), .force = kOneRowVariants},
      {.name = "fused_gate_up_prefill_gelu", .op = "fused_gate_up", .graph = R"(symbol T <= 40
input %x : f32[T, 77]
weight %wg : f32[77, 45]
weight %wu : f32[77, 45]
%y = fused_gate_up(%x, %wg, %wu) {act = "gelu"}
output %y)", .steps = {{{"T", 37}}, {{"T", 2}}}, .tolerance = chain(77, 0), .force = kManyRowVariants},
      {.name = "matmul_rmsnorm_decode", .op = "matmul_rmsnorm", .graph = R"(symbol T <= 1
input %x : f32[T, 77]
weight %w : f32[301, 77]
weight %g : f32[301]
%h, %y = matmul_rmsnorm(%x, %w, %g) {transpose_b = true, eps = 1e-06}
output %h, %y)", .steps = {{{"T", 1}}}, .tolerance = products(77)},
      {.name = "matmul_rmsnorm_residual_f16_weights", .op = "matmul_rmsnorm", .graph = R"(symbol T <= 1
input %x : f32[T, 45]
input %r : f32[T, 67]
weight %w : f16[45, 67]
weight %g : f16[67]
%s, %y = matmul_rmsnorm(%x, %w, %g, %r)
output %s, %y)", .steps = {{{"T", 1}}}, .tolerance = products(45)},
      {.name = "residual_rmsnorm", .op = "residual_rmsnorm", .graph = R"(symbol T <= 8
input %a : f32[T, 41]
input %b : f32[T, 41]
weight %g : f32[41]
%s, %y = residual_rmsnorm(%a, %b, %g) {eps = 1e-06}
output %s, %y)", .steps = {{{"T", 5}}}, .tolerance = kRows},
      {.name = "residual_rmsnorm_wide_decode_f16_gain", .op = "residual_rmsnorm", .graph = R"(symbol T <= 1
input %a : f32[T, 777]
input %b : f32[T, 777]
weight %g : f16[777]
%s, %y = residual_rmsnorm(%a, %b, %g)
output %s, %y)", .steps = {{{"T", 1}}}, .tolerance = kRows},
      {.name = "residual_layernorm_beta", .op = "residual_layernorm", .graph = R"(symbol T <= 9
input %a : f32[T, 23]
input %b : f32[T, 23]
weight %g : f32[23]
weight %beta : f32[23]
%s, %y = residual_layernorm(%a, %b, %g, %beta) {eps = 1e-06}
output %s, %y)", .steps = {{{"T", 9}}}, .tolerance = kRows},
      {.name = "residual_layernorm_wide_no_beta", .op = "residual_layernorm", .graph = R"(input %a : f32[3, 301]
input %b : f32[3, 301]
weight %g : f32[301]
%s, %y = residual_layernorm(%a, %b, %g)
output %s, %y)", .tolerance = kRows},
      {.name = "matmul_qkv_decode", .op = "matmul_qkv", .graph = R"(symbol T <= 1
input %x : f32[T, 77]
weight %wq : f32[261, 77]
weight %wk : f32[45, 77]
weight %wv : f32[45, 77]
%q, %k, %v = matmul_qkv(%x, %wq, %wk, %wv) {transpose_b = true}
output %q, %k, %v)", .steps = {{{"T", 1}}, {{"T", 1}}}, .tolerance = products(77), .force = kOneRowVariants},
      {.name = "matmul_qkv_decode_f16_weights_biases", .op = "matmul_qkv", .graph = R"(symbol T <= 1
input %x : f32[T, 300]
weight %wq : f16[300, 45]
weight %wk : f16[300, 15]
weight %wv : f16[300, 15]
weight %bq : f32[45]
weight %bk : f32[15]
weight %bv : f32[15]
%q, %k, %v = matmul_qkv(%x, %wq, %wk, %wv, %bq, %bk, %bv)
output %q, %k, %v)", .steps = {{{"T", 1}}}, .tolerance = products(300), .force = kOneRowVariants},
      {.name = "matmul_qkv_prefill_biases", .op = "matmul_qkv", .graph = R"(symbol T <= 16
input %x : f32[T, 37]
weight %wq : f32[37, 45]
weight %wk : f32[37, 15]
weight %wv : f32[37, 15]
weight %bq : f32[45]
weight %bk : f32[15]
weight %bv : f32[15]
%q, %k, %v = matmul_qkv(%x, %wq, %wk, %wv, %bq, %bk, %bv)
output %q, %k, %v)", .steps = {{{"T", 13}}, {{"T", 3}}}, .tolerance = products(37), .force = kManyRowVariants},
      {.name = "matmul_qkv_prefill_no_biases", .op = "matmul_qkv", .graph = R"(symbol T <= 40
input %x : f32[T, 77]
weight %wq : f16[300, 77]
weight %wk : f16[45, 77]
weight %wv : f16[45, 77]
%q, %k, %v = matmul_qkv(%x, %wq, %wk, %wv) {transpose_b = true}
output %q, %k, %v)", .steps = {{{"T", 33}}}, .tolerance = products(77), .force = kManyRowVariants},
      // The embedding's rows converted as they are gathered (table "convert").
      {.name = "embedding_cast_f16_table_to_f32", .op = "embedding_cast", .graph = R"(symbol T <= 9
input %ids : i32[T]
weight %table : f16[301, 77]
%y = embedding_cast(%table, %ids) {dtype = "f32"}
output %y)", .steps = {{{"T", 9}}, {{"T", 1}}}, .tolerance = kExact, .id_limit = 301},
      {.name = "embedding_cast_f16_table_2d_ids", .op = "embedding_cast", .graph = R"(input %ids : i32[3, 2]
weight %table : f16[50, 13]
%y = embedding_cast(%table, %ids) {dtype = "f32"}
output %y)", .tolerance = kExact, .id_limit = 50},
      {.name = "embedding_cast_f32_table_to_f16", .op = "embedding_cast", .graph = R"(input %ids : i32[5]
weight %table : f32[40, 33]
%y = embedding_cast(%table, %ids) {dtype = "f16"}
output %y)", .tolerance = kF16, .id_limit = 40},
      // The GPU decode forms (passes/fusion_rules.cc, table "decode").
      // Contractions of K % 8 == 0 take the gemv's 16-byte loads, others its
      // scalar loads; the norm's scale multiplies each product, so products
      // are bounded by K * max|x| / rms, about 1.7 K here.
      {.name = "matmul_residual_decode_f16_weights", .op = "matmul_residual", .graph = R"(symbol T <= 1
input %x : f32[T, 296]
input %r : f32[T, 261]
weight %w : f16[261, 296]
%y = matmul_residual(%x, %w, %r) {transpose_b = true}
output %y)", .steps = {{{"T", 1}}, {{"T", 1}}}, .tolerance = products(296), .force = kRowProductVariants},
      {.name = "matmul_residual_rows_k_major", .op = "matmul_residual", .graph = R"(symbol T <= 5
input %x : f32[T, 77]
input %r : f32[T, 45]
weight %w : f32[77, 45]
%y = matmul_residual(%x, %w, %r)
output %y)", .steps = {{{"T", 3}}}, .tolerance = products(77), .force = kRowProductVariants},
      {.name = "rmsnorm_matmul_decode_f16_weights", .op = "rmsnorm_matmul", .graph = R"(symbol T <= 1
input %x : f32[T, 296]
weight %g : f32[296]
weight %w : f16[517, 296]
%y = rmsnorm_matmul(%x, %g, %w) {transpose_b = true, eps = 1e-06}
output %y)", .steps = {{{"T", 1}}}, .tolerance = products(2 * 296), .force = kRowProductVariants},
      {.name = "rmsnorm_matmul_odd_k_f16_gain", .op = "rmsnorm_matmul", .graph = R"(symbol T <= 2
input %x : f32[T, 77]
weight %g : f16[77]
weight %w : f32[45, 77]
%y = rmsnorm_matmul(%x, %g, %w) {transpose_b = true}
output %y)", .steps = {{{"T", 2}}}, .tolerance = products(2 * 77), .force = kRowProductVariants},
      {.name = "rmsnorm_gate_up_decode_silu", .op = "rmsnorm_gate_up", .graph = R"(symbol T <= 1
input %x : f32[T, 296]
weight %g : f32[296]
weight %wg : f16[261, 296]
weight %wu : f16[261, 296]
%y = rmsnorm_gate_up(%x, %g, %wg, %wu) {act = "silu", transpose_b = true}
output %y)", .steps = {{{"T", 1}}}, .tolerance = chain(2 * 296, 0), .force = kRowProductVariants},
      {.name = "rmsnorm_gate_up_gelu_k_major", .op = "rmsnorm_gate_up", .graph = R"(symbol T <= 1
input %x : f32[T, 77]
weight %g : f32[77]
weight %wg : f32[77, 45]
weight %wu : f32[77, 45]
%y = rmsnorm_gate_up(%x, %g, %wg, %wu) {act = "gelu", approximate = "tanh", eps = 1e-06}
output %y)", .steps = {{{"T", 1}}}, .tolerance = chain(2 * 77, 0), .force = kRowProductVariants},
      // Partial rotation (8 of 12 features), half-split pairs; the caches
      // are compared after every step.
      {.name = "rmsnorm_qkv_rope_decode", .op = "rmsnorm_qkv_rope", .graph = R"(symbol P <= 8
symbol T <= 1
input %x : f32[T, 72]
weight %g : f32[72]
weight %wq : f16[72, 72]
weight %wk : f16[24, 72]
weight %wv : f16[24, 72]
state %kc : f32[9, 2, 12]
state %vc : f32[9, 2, 12]
%q, %kc2, %vc2 = rmsnorm_qkv_rope(%x, %g, %wq, %wk, %wv, %kc, %vc) {transpose_b = true, rotary_dim = 8, theta = 500.0}
output %q)", .steps = {{{"P", 0}, {"T", 1}}, {{"P", 1}, {"T", 1}}, {{"P", 7}, {"T", 1}}},
       .tolerance = products(2 * 72), .force = kRowProductVariants},
      // Qwen's form: biases; interleaved pairs with Llama 3 scaling; an odd
      // head_dim (the last feature passes through alone); f16 caches; K-major
      // weights of odd K (the scalar loads).
      {.name = "rmsnorm_qkv_rope_biases_interleaved_llama3_f16_cache", .op = "rmsnorm_qkv_rope",
       .graph = R"(symbol P <= 40
symbol T <= 1
input %x : f32[T, 77]
weight %g : f32[77]
weight %wq : f32[77, 39]
weight %wk : f32[77, 13]
weight %wv : f32[77, 13]
weight %bq : f32[39]
weight %bk : f32[13]
weight %bv : f32[13]
state %kc : f16[41, 1, 13]
state %vc : f16[41, 1, 13]
%q, %kc2, %vc2 = rmsnorm_qkv_rope(%x, %g, %wq, %wk, %wv, %kc, %vc, %bq, %bk, %bv) {rotary_dim = 12, interleaved = true, scaling_factor = 8.0, scaling_original_context = 16}
output %q)", .steps = {{{"P", 0}, {"T", 1}}, {{"P", 39}, {"T", 1}}, {{"P", 40}, {"T", 1}}},
       .tolerance = {2 * 77 * 2.4e-7, 1e-3}, .force = kRowProductVariants},
  };
}

// The cpu plugin's two kernels of these ops (conformance_backends.cc): the
// reference, forced on every case of the op, and "vector", forced on every
// case of the form its variant-table row takes (f32 activations and
// results), which is every case of the op but those listed.
const std::vector<std::string> kCpuVectorOps = {"matmul",    "attention",     "rmsnorm",        "residual_rmsnorm",
                                                "fused_ffn", "fused_gate_up", "matmul_rmsnorm", "matmul_qkv"};
const std::vector<std::string> kNotCpuVectorForm = {
    "matmul_batched_b", "matmul_batched_transposed_b",  // a 3-D weight
    "matmul_f16_activations", "rmsnorm_f16",            // f16 activations
};

void force_cpu_variants(OpCase& op_case) {
  if (!absl::c_linear_search(kCpuVectorOps, op_case.op)) return;
  std::vector<std::string> variants = {"reference"};
  if (!absl::c_linear_search(kNotCpuVectorForm, op_case.name)) variants.push_back("vector");
  for (const std::string& variant : variants) {
    if (!absl::c_linear_search(op_case.force, variant)) op_case.force.push_back(variant);
  }
}

std::vector<OpCase> all_cases() {
  std::vector<OpCase> cases = primitive_cases();
  for (OpCase& op_case : fused_cases()) cases.push_back(std::move(op_case));
  for (OpCase& op_case : cases) force_cpu_variants(op_case);
  return cases;
}

const std::vector<OpCase>& cases() {
  static const std::vector<OpCase> kCases = all_cases();
  return kCases;
}

class ConformanceTest : public ::testing::TestWithParam<ConformanceParam> {};

TEST_P(ConformanceTest, MatchesNumPy) { run_conformance(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Ops, ConformanceTest, ::testing::ValuesIn(conformance_params(cases())),
                         [](const auto& info) { return param_name(info.param); });

// Every variant a backend registers is forced by name on at least one case,
// so the table's choice is never the only variant tested.
TEST(ConformanceCoverage, EveryRegisteredVariantIsForced) {
  for (const BackendUnderTest& backend : backends_under_test()) {
    for (const auto& [op, variants] : backend.variants) {
      for (const Variant& variant : variants) {
        const std::string& op_name = op;
        const auto forces = [&](const OpCase& c) {
          return c.op == op_name && absl::c_linear_search(c.force, variant.name);
        };
        EXPECT_TRUE(absl::c_any_of(cases(), forces))
            << backend.name << ": no case forces " << op << "=" << variant.name;
      }
    }
  }
}

// The forcing the harness relies on: select-variants takes the forced
// variant and says so; a forced op that nothing runs is refused by name.
TEST(ForcedVariants, SelectVariantsTakesAndExplainsThem) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(R"(input %x : f32[3, 5]
weight %w : f32[5, 7]
%y = matmul(%x, %w)
output %y)");
  ASSERT_TRUE(graph.ok()) << graph.status();
  std::ostringstream explain;
  passes::CompileOptions options;
  options.target.backend = "vulkan";
  options.pipeline = kConformancePipeline;
  options.explain = &explain;
  options.force_variants = {{"matmul", "gemv"}};
  absl::StatusOr<program::Program> program = passes::compile(*graph, options);
  ASSERT_TRUE(program.ok()) << program.status();
  EXPECT_EQ(program->dispatches[0].variant, "gemv");
  EXPECT_THAT(explain.str(), ::testing::HasSubstr("select-variants: %y = matmul: gemv (forced)"));
}

TEST(ForcedVariants, AnOpNothingRunsIsRefused) {
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(R"(input %x : f32[3, 5]
%y = relu(%x)
output %y)");
  ASSERT_TRUE(graph.ok()) << graph.status();
  passes::CompileOptions options;
  options.pipeline = kConformancePipeline;
  options.force_variants = {{"matmull", "tiled"}};
  absl::StatusOr<program::Program> program = passes::compile(*graph, options);
  EXPECT_THAT(program.status().message(),
              ::testing::HasSubstr("forced variant matmull=tiled: no dispatch runs matmull; the Program runs relu"));
}

}  // namespace
}  // namespace kiln::backends::testing
