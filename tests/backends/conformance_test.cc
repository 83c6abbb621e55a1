// Per-op conformance: each case is a small graph in the text IR, compiled
// through the pass pipeline, run on a backend loaded by the registry, and
// compared with numpy_reference.py on the same inputs. Sizes are odd on
// purpose (not multiples of 4, 16 or 32), steps have T > 1 with P > 0, and
// attention covers grouped-query (4:1) and multi-query heads.

#include <stdlib.h>

#include <filesystem>

#include "gtest/gtest.h"
#include "tests/backends/backend_test_support.h"
#include "tests/backends/conformance_harness.h"

namespace kiln::backends::testing {

// gtest prints a case by its name, not its bytes.
void PrintTo(const OpCase& op_case, std::ostream* out) { *out << op_case.name; }

namespace {

// Both sides compute in f64 and round once to f32, so they agree to within
// two f32 ulps (2^-22 relative); layout ops and integer results must agree
// exactly.
constexpr Tolerance kF32{1e-9, 2.4e-7};
// The backend rounds to f32 before f16, NumPy straight from f64: one f16 ulp
// apart at most (2^-10 relative; 2^-24 absolute among subnormals).
constexpr Tolerance kF16{6e-8, 9.8e-4};
constexpr Tolerance kExact{0.0, 0.0};
// Several ops deep, each rounding its result to f32.
constexpr Tolerance kChain{1e-5, 1e-5};

const OpCase kCases[] = {
    {"embedding_f32", R"(symbol T <= 8
input %ids : i32[T]
weight %table : f32[53, 13]
%e = embedding(%table, %ids)
output %e)", {{"T", 7}}, kExact, 1.0, 53},
    {"embedding_f16_table_2d_ids", R"(input %ids : i32[3, 5]
weight %table : f16[29, 11]
%e = embedding(%table, %ids)
output %e)", {}, kExact, 1.0, 29},

    {"matmul_plain", R"(input %a : f32[7, 19]
weight %b : f32[19, 11]
%y = matmul(%a, %b)
output %y)", {}, kF32},
    {"matmul_transpose_b_bias_f16_weights", R"(symbol T <= 8
input %x : f32[T, 37]
weight %w : f16[23, 37]
weight %bias : f32[23]
%y = matmul(%x, %w, %bias) {transpose_b = true}
output %y)", {{"T", 5}}, kF32},
    {"matmul_batched_b", R"(input %a : f32[3, 5, 9]
input %b : f32[3, 9, 7]
%y = matmul(%a, %b)
output %y)", {}, kF32},
    {"matmul_batched_a_shared_transposed_b", R"(symbol T <= 4
input %a : f32[2, T, 9]
weight %b : f32[7, 9]
%y = matmul(%a, %b) {transpose_b = true}
output %y)", {{"T", 3}}, kF32},
    {"matmul_f16_activations", R"(input %a : f16[5, 33]
weight %b : f16[33, 6]
%y = matmul(%a, %b)
output %y)", {}, kF16},
    {"matmul_batched_transposed_b", R"(input %q : f32[3, 4, 13]
input %k : f32[3, 6, 13]
%s = matmul(%q, %k) {transpose_b = true}
output %s)", {}, kF32},

    {"add_broadcast", R"(symbol T <= 8
input %a : f32[T, 3, 7]
weight %b : f32[7]
%y = add(%a, %b)
output %y)", {{"T", 5}}, kF32},
    {"add_f16_same_shape", R"(input %a : f16[5, 9]
input %b : f16[5, 9]
%y = add(%a, %b)
output %y)", {}, kF16},
    {"mul_broadcast_two_dims", R"(input %a : f32[2, 3, 7]
input %b : f32[3, 7]
%y = mul(%a, %b)
output %y)", {}, kF32},
    {"scale", R"(input %x : f32[3, 29]
%y = scale(%x) {scale = -0.37}
output %y)", {}, kF32},
    {"silu", R"(input %x : f32[3, 29]
%y = silu(%x)
output %y)", {}, kF32, 6.0},
    {"gelu_erf", R"(input %x : f32[3, 29]
%y = gelu(%x)
output %y)", {}, kF32, 5.0},
    {"gelu_tanh", R"(input %x : f32[3, 29]
%y = gelu(%x) {approximate = "tanh"}
output %y)", {}, kF32, 5.0},
    {"relu_f16", R"(input %x : f16[3, 29]
%y = relu(%x)
output %y)", {}, kExact},

    {"rmsnorm", R"(symbol T <= 8
input %x : f32[T, 67]
weight %w : f32[67]
%y = rmsnorm(%x, %w) {eps = 1e-06}
output %y)", {{"T", 3}}, kF32, 3.0},
    {"rmsnorm_f16", R"(input %x : f16[4, 33]
weight %w : f32[33]
%y = rmsnorm(%x, %w)
output %y)", {}, kF16},
    {"layernorm_bias", R"(input %x : f32[5, 45]
weight %w : f32[45]
weight %b : f32[45]
%y = layernorm(%x, %w, %b) {eps = 0.001}
output %y)", {}, kF32, 2.0},
    {"layernorm_no_bias", R"(input %x : f32[2, 3, 19]
weight %w : f32[19]
%y = layernorm(%x, %w)
output %y)", {}, kF32},
    {"softmax", R"(input %x : f32[4, 3, 33]
%y = softmax(%x)
output %y)", {}, kF32, 8.0},

    {"rope_halves", R"(symbol P <= 64
symbol T <= 8
input %x : f32[T, 3, 16]
%y = rope(%x) {rotary_dim = 16}
output %y)", {{"P", 5}, {"T", 3}}, kF32},
    {"rope_interleaved_partial", R"(symbol P <= 64
symbol T <= 8
input %x : f32[T, 2, 14]
%y = rope(%x) {rotary_dim = 8, interleaved = true, theta = 500.0}
output %y)", {{"P", 7}, {"T", 2}}, kF32},
    {"rope_llama3_scaling", R"(symbol P <= 4096
symbol T <= 8
input %x : f32[T, 2, 64]
%y = rope(%x) {rotary_dim = 64, theta = 500000.0, scaling_factor = 8.0, scaling_low_freq_factor = 1.0, scaling_high_freq_factor = 4.0, scaling_original_context = 8192}
output %y)", {{"P", 3001}, {"T", 3}}, kF32},

    {"attention_gqa_causal_with_cache", R"(symbol P <= 16
symbol T <= 4
input %q : f32[T, 8, 16]
input %k : f32[T, 2, 16]
input %v : f32[T, 2, 16]
state %kc : f32[16, 2, 16]
state %vc : f32[16, 2, 16]
%kc2 = kv_write(%kc, %k)
%vc2 = kv_write(%vc, %v)
%o = attention(%q, %kc2, %vc2)
output %o)", {{"P", 5}, {"T", 3}}, kF32, 2.0},
    {"attention_mqa_f16_cache_odd_head_dim", R"(symbol P <= 16
symbol T <= 4
input %q : f32[T, 3, 13]
input %k : f32[T, 1, 13]
input %v : f32[T, 1, 13]
state %kc : f16[11, 1, 13]
state %vc : f16[11, 1, 13]
%kc2 = kv_write(%kc, %k)
%vc2 = kv_write(%vc, %v)
%o = attention(%q, %kc2, %vc2) {scale = 0.3}
output %o)", {{"P", 6}, {"T", 4}}, kF32, 2.0},
    {"attention_not_causal_without_past", R"(symbol T <= 8
input %q : f32[T, 4, 8]
input %k : f32[T, 2, 8]
input %v : f32[T, 2, 8]
%o = attention(%q, %k, %v) {causal = false}
output %o)", {{"T", 5}}, kF32, 2.0},
    {"kv_write_f16_cache", R"(symbol P <= 16
symbol T <= 4
input %x : f32[T, 3, 5]
state %cache : f16[9, 3, 5]
%c = kv_write(%cache, %x)
output %c)", {{"P", 3}, {"T", 2}}, kExact},

    {"transpose_swap_leading", R"(input %x : f32[3, 5, 7]
%y = transpose(%x) {perm = [1, 0, 2]}
output %y)", {}, kExact},
    {"transpose_rotate_f16", R"(input %x : f16[3, 5, 7]
%y = transpose(%x) {perm = [2, 0, 1]}
output %y)", {}, kExact},
    {"concat_three", R"(input %a : f32[3, 2, 5]
input %b : f32[3, 4, 5]
input %c : f32[3, 1, 5]
%y = concat(%a, %b, %c) {axis = 1}
output %y)", {}, kExact},
    {"concat_last_axis", R"(input %a : f32[3, 5]
input %b : f32[3, 2]
%y = concat(%a, %b) {axis = -1}
output %y)", {}, kExact},
    {"slice_static", R"(input %x : f32[4, 9]
%y = slice(%x) {axis = 1, start = 2, end = -1}
output %y)", {}, kExact},
    {"slice_last_token", R"(symbol T <= 8
input %x : f32[T, 11]
%y = slice(%x) {axis = 0, start = -1}
output %y)", {{"T", 5}}, kExact},
    {"argmax_rows", R"(symbol T <= 8
input %x : f32[T, 37]
%y = argmax(%x)
output %y)", {{"T", 4}}, kExact},
    {"argmax_vector", R"(input %x : f16[41]
%y = argmax(%x)
output %y)", {}, kExact},
    {"cast_f32_to_f16", R"(input %x : f32[3, 7]
%y = cast(%x) {dtype = "f16"}
output %y)", {}, kExact, 100.0},
    {"cast_f16_to_f32", R"(input %x : f16[3, 7]
%y = cast(%x) {dtype = "f32"}
output %y)", {}, kExact},
    {"cast_f32_to_i32", R"(input %x : f32[3, 7]
%y = cast(%x) {dtype = "i32"}
output %y)", {}, kExact, 100.0},
    {"cast_i32_to_f32", R"(input %x : i32[3, 7]
%y = cast(%x) {dtype = "f32"}
output %y)", {}, kExact, 1.0, 1000},

    {"decoder_attention_block", R"(symbol P <= 32
symbol T <= 8
input %x : f32[T, 24]
weight %g : f32[24]
weight %wq : f16[24, 24]
weight %wk : f16[12, 24]
weight %wv : f16[12, 24]
weight %wo : f16[24, 24]
state %kc : f32[32, 2, 6]
state %vc : f32[32, 2, 6]
%h = rmsnorm(%x, %g)
%q = matmul(%h, %wq) {transpose_b = true}
%k = matmul(%h, %wk) {transpose_b = true}
%v = matmul(%h, %wv) {transpose_b = true}
%q3 = reshape(%q) {shape = [T, 4, 6]}
%k3 = reshape(%k) {shape = [T, 2, 6]}
%v3 = reshape(%v) {shape = [T, 2, 6]}
%qr = rope(%q3) {rotary_dim = 6}
%kr = rope(%k3) {rotary_dim = 6}
%kc2 = kv_write(%kc, %kr)
%vc2 = kv_write(%vc, %v3)
%a = attention(%qr, %kc2, %vc2)
%a2 = reshape(%a) {shape = [T, 24]}
%o = matmul(%a2, %wo) {transpose_b = true}
%y = add(%x, %o)
output %y)", {{"P", 9}, {"T", 4}}, kChain},
};

class ConformanceTest : public ::testing::TestWithParam<std::tuple<std::string, OpCase>> {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "kiln-conformance-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    work_dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(work_dir_); }

  std::string work_dir_;
};

TEST_P(ConformanceTest, MatchesNumPy) {
  const auto& [backend_name, op_case] = GetParam();
  KILN_OPEN_BACKEND_OR_SKIP(backend, backend_name);
  absl::StatusOr<CaseRun> run = run_case(backend, op_case, work_dir_);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->backend.size(), run->reference.size());
  for (const auto& [name, want] : run->reference) {
    ASSERT_TRUE(run->backend.contains(name)) << name;
    EXPECT_EQ(compare(run->backend.at(name), want, op_case.tolerance), "") << name;
  }
}

// Every backend runs every case: a new plugin adds its name to the list.
INSTANTIATE_TEST_SUITE_P(Ops, ConformanceTest, ::testing::Combine(::testing::Values("cpu"), ::testing::ValuesIn(kCases)),
                         [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param).name; });

}  // namespace
}  // namespace kiln::backends::testing
