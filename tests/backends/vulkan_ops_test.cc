// Each Vulkan kernel and variant on odd shapes (not multiples of 4, 16 or
// 32; N larger than a workgroup; K not a multiple of a tile), through the
// plugin's C ABI, against values computed here in double precision.

#include <cmath>
#include <numbers>

#include "tests/backends/vulkan_fixture.h"

namespace kiln::backends::vulkan::testing {
namespace {

using program::StepParam;

struct MatmulCase {
  std::string kernel;  // matmul, fused_gate_up, matmul_qkv
  std::string variant;
  DType weight_dtype;
  bool transpose_b;
  bool bias;
  int64_t rows;        // this step's rows; the bound is rows + 5 for tiled
  int64_t k = 77;      // 77: the scalar path; a multiple of 8: gemv's 16-byte path (with transpose_b)
};

std::string name_of(const ::testing::TestParamInfo<MatmulCase>& info) {
  const MatmulCase& c = info.param;
  return c.kernel + "_" + c.variant + "_" + std::string(program::dtype_name(c.weight_dtype)) +
         (c.transpose_b ? "_t" : "_n") + (c.bias ? "_bias" : "") + "_rows" + std::to_string(c.rows) +
         "_k" + std::to_string(c.k);
}

class VulkanMatmulTest : public VulkanTest, public ::testing::WithParamInterface<MatmulCase> {};

// x[rows, K] @ w (w[K, N] or [N, K]) in double.
std::vector<double> reference_product(const std::vector<float>& x, const std::vector<float>& w, int64_t rows,
                                      int64_t k, int64_t n, bool transpose_b) {
  std::vector<double> out(rows * n, 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t i = 0; i < k; ++i) sum += double(x[r * k + i]) * w[transpose_b ? j * k + i : i * n + j];
      out[r * n + j] = sum;
    }
  }
  return out;
}

TEST_P(VulkanMatmulTest, MatchesReference) {
  const MatmulCase c = GetParam();
  const int64_t kK = c.k;
  // Odd widths: gemv's last subgroup has a column past N, and one subgroup
  // straddles q and k.
  const std::vector<int64_t> widths = c.kernel == "matmul_qkv" ? std::vector<int64_t>{301, 45, 45}
                                                                : std::vector<int64_t>{301};
  const int weight_count = c.kernel == "matmul" ? 1 : (c.kernel == "fused_gate_up" ? 2 : 3);
  ProgramBuilder b;
  const int32_t t = b.slot("T", c.rows + (c.variant == "tiled" ? 5 : 0));
  TensorRef x = b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(kK)});
  b.input("x", x);
  std::vector<TensorRef> inputs = {x};
  std::vector<std::vector<uint8_t>> weight_bytes;
  std::vector<std::vector<float>> weights, biases;
  for (int w = 0; w < weight_count; ++w) {
    const int64_t n = widths[c.kernel == "matmul_qkv" ? w : 0];
    std::vector<float> values = random_values(kK * n, 10 + w, 0.3f);
    if (c.weight_dtype == DType::f16) values = through_f16(values);
    weights.push_back(values);
    weight_bytes.push_back(bytes_of(values, c.weight_dtype));
    inputs.push_back(b.weight("w" + std::to_string(w), c.weight_dtype,
                              c.transpose_b ? std::vector<int64_t>{n, kK} : std::vector<int64_t>{kK, n}));
  }
  if (c.bias) {
    for (size_t o = 0; o < widths.size(); ++o) {
      biases.push_back(random_values(widths[o], 50 + o));
      weight_bytes.push_back(bytes_of(biases.back(), DType::f32));
      inputs.push_back(b.weight("b" + std::to_string(o), DType::f32, {widths[o]}));
    }
  }
  std::vector<TensorRef> outputs;
  for (size_t o = 0; o < (c.kernel == "matmul_qkv" ? 3u : 1u); ++o) {
    outputs.push_back(b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(widths[o])}));
    b.output("y" + std::to_string(o), outputs.back());
  }
  std::vector<Constant> constants = {boolean("transpose_b", c.transpose_b)};
  if (c.kernel == "fused_gate_up") {
    constants.push_back(integer("act", 1));
    constants.push_back(integer("approximate", 1));
  }
  b.dispatch(c.kernel, c.variant, constants, inputs, outputs);
  ASSERT_EQ(load(b.json(), weight_bytes), KILN_OK) << error_.message;

  const std::vector<float> xs = random_values(c.rows * kK, 3);
  std::vector<std::vector<uint8_t>> out;
  for (size_t o = 0; o < outputs.size(); ++o) out.emplace_back(c.rows * widths[o] * 4);
  ASSERT_EQ(step({c.rows}, {bytes_of(xs, DType::f32)}, out), KILN_OK) << error_.message;

  for (size_t o = 0; o < outputs.size(); ++o) {
    const int64_t n = widths[o];
    std::vector<double> want = reference_product(xs, weights[c.kernel == "matmul_qkv" ? o : 0], c.rows, kK, n,
                                                 c.transpose_b);
    if (c.kernel == "fused_gate_up") {
      std::vector<double> up = reference_product(xs, weights[1], c.rows, kK, n, c.transpose_b);
      for (size_t i = 0; i < want.size(); ++i) {
        const double g = want[i];
        want[i] = 0.5 * g * (1 + std::tanh(0.7978845608028654 * (g + 0.044715 * g * g * g))) * up[i];
      }
    }
    if (c.bias) {
      for (size_t i = 0; i < want.size(); ++i) want[i] += biases[o][i % n];
    }
    expect_near_all(as_floats(out[o]), want, 1e-4, "output " + std::to_string(o));
  }
}

std::vector<MatmulCase> matmul_cases() {
  std::vector<MatmulCase> cases;
  for (std::string kernel : {"matmul", "fused_gate_up", "matmul_qkv"}) {
    for (std::string variant : {"gemv", "gemv_subgroup", "tiled"}) {
      for (DType dtype : {DType::f32, DType::f16}) {
        for (bool transpose_b : {false, true}) {
          const bool bias = kernel != "fused_gate_up" && transpose_b;
          cases.push_back({kernel, variant, dtype, transpose_b, bias, variant == "tiled" ? 19 : 1});
          // gemv's 16-byte path: unrolled blocks and a remainder, for
          // subgroups of 8 (lavapipe) and 32, and for a 256-lane workgroup.
          if (variant != "tiled" && transpose_b) {
            cases.push_back({kernel, variant, dtype, transpose_b, bias, 1, 8 * (2 * 128 + 5)});
            if (variant == "gemv") cases.push_back({kernel, variant, dtype, transpose_b, bias, 1, 8 * (1024 + 7)});
            if (variant == "gemv_subgroup") cases.push_back({kernel, variant, dtype, transpose_b, bias, 3, 8 * 69});
          }
        }
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Variants, VulkanMatmulTest, ::testing::ValuesIn(matmul_cases()), name_of);

// ---- Cooperative matrices ------------------------------------------------------

// matmul's coopmat variant on odd shapes (M past one 128-row tile, N past
// one 128-column tile, K not a multiple of the 32-wide step, and K % 8 == 0
// for the 16-byte loads), with a bias; a is rounded to f16 as the kernel
// stages it. Runs only where the device reports cooperative matrices;
// elsewhere the plugin must refuse the variant by name.
class VulkanCoopmatTest : public VulkanTest, public ::testing::WithParamInterface<int64_t> {};

TEST_P(VulkanCoopmatTest, MatchesReference) {
  const int64_t k = GetParam(), rows = 131, n = 301;
  kiln_capabilities caps{};
  caps.struct_size = sizeof caps;
  uint32_t count = 0;
  ASSERT_EQ(api_->probe(&caps, 1, &count, &error_), KILN_OK) << error_.message;
  ProgramBuilder b;
  const int32_t t = b.slot("T", rows + 5);
  TensorRef x = b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(k)});
  b.input("x", x);
  TensorRef w = b.weight("w", DType::f16, {n, k});
  TensorRef bias = b.weight("bias", DType::f32, {n});
  TensorRef y = b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(n)});
  b.output("y", y);
  b.dispatch("matmul", "coopmat", {boolean("transpose_b", true)}, {x, w, bias}, {y});
  const std::vector<float> ws = through_f16(random_values(n * k, 4, 0.3f)), bs = random_values(n, 5);
  const int32_t loaded = load(b.json(), {bytes_of(ws, DType::f16), bytes_of(bs, DType::f32)});
  if (!caps.cooperative_matrix) {
    EXPECT_EQ(loaded, KILN_ERROR_FAILED_PRECONDITION);
    EXPECT_NE(std::string(error_.message).find("variant coopmat needs cooperative matrices"), std::string::npos)
        << error_.message;
    GTEST_SKIP() << "the device reports no cooperative matrices: checked that the plugin refuses the variant";
  }
  ASSERT_EQ(loaded, KILN_OK) << error_.message;
  const std::vector<float> xs = through_f16(random_values(rows * k, 6));
  std::vector<std::vector<uint8_t>> out = {std::vector<uint8_t>(rows * n * 4)};
  ASSERT_EQ(step({rows}, {bytes_of(xs, DType::f32)}, out), KILN_OK) << error_.message;
  std::vector<double> want = reference_product(xs, ws, rows, k, n, true);
  for (size_t i = 0; i < want.size(); ++i) want[i] += bs[i % n];
  expect_near_all(as_floats(out[0]), want, 1e-4, "coopmat");
}

INSTANTIATE_TEST_SUITE_P(Shapes, VulkanCoopmatTest, ::testing::Values(77, 136),
                         [](const ::testing::TestParamInfo<int64_t>& info) { return "k" + std::to_string(info.param); });

// ---- Norms -------------------------------------------------------------------

struct NormCase {
  std::string kernel;
  bool beta;
};

class VulkanNormTest : public VulkanTest, public ::testing::WithParamInterface<NormCase> {};

TEST_P(VulkanNormTest, MatchesReference) {
  const NormCase c = GetParam();
  const bool residual = c.kernel.starts_with("residual_");
  const bool layer = c.kernel.ends_with("layernorm");
  constexpr int64_t kRows = 7, kCols = 333;
  ProgramBuilder b;
  const int32_t t = b.slot("T", kRows + 3);
  TensorRef a = b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(kCols)});
  b.input("a", a);
  std::vector<TensorRef> inputs = {a};
  if (residual) {
    inputs.push_back(b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(kCols)}));
    b.input("b", inputs.back());
  }
  const std::vector<float> gain = random_values(kCols, 7), beta = random_values(kCols, 8);
  std::vector<std::vector<uint8_t>> weights = {bytes_of(gain, DType::f32)};
  inputs.push_back(b.weight("g", DType::f32, {kCols}));
  if (c.beta) {
    inputs.push_back(b.weight("beta", DType::f32, {kCols}));
    weights.push_back(bytes_of(beta, DType::f32));
  }
  std::vector<TensorRef> outputs = {b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(kCols)})};
  if (residual) outputs.push_back(b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(kCols)}));
  for (size_t o = 0; o < outputs.size(); ++o) b.output("y" + std::to_string(o), outputs[o]);
  b.dispatch(c.kernel, "reference", {real("eps", 1e-5)}, inputs, outputs);
  ASSERT_EQ(load(b.json(), weights), KILN_OK) << error_.message;

  const std::vector<float> xa = random_values(kRows * kCols, 1, 2.0f), xb = random_values(kRows * kCols, 2);
  std::vector<std::vector<uint8_t>> in = {bytes_of(xa, DType::f32)};
  if (residual) in.push_back(bytes_of(xb, DType::f32));
  std::vector<std::vector<uint8_t>> out(outputs.size(), std::vector<uint8_t>(kRows * kCols * 4));
  ASSERT_EQ(step({kRows}, in, out), KILN_OK) << error_.message;

  std::vector<double> sum(kRows * kCols), normed(kRows * kCols);
  for (int64_t r = 0; r < kRows; ++r) {
    double mean = 0, sq = 0;
    for (int64_t i = 0; i < kCols; ++i) {
      sum[r * kCols + i] = double(xa[r * kCols + i]) + (residual ? xb[r * kCols + i] : 0.0);
      mean += sum[r * kCols + i] / kCols;
    }
    if (!layer) mean = 0;
    for (int64_t i = 0; i < kCols; ++i) sq += std::pow(sum[r * kCols + i] - mean, 2) / kCols;
    for (int64_t i = 0; i < kCols; ++i) {
      normed[r * kCols + i] = (sum[r * kCols + i] - mean) / std::sqrt(sq + 1e-5) * gain[i] + (c.beta ? beta[i] : 0.0);
    }
  }
  if (residual) expect_near_all(as_floats(out[0]), sum, 1e-5, "sum");
  expect_near_all(as_floats(out.back()), normed, 1e-4, "normed");
}

INSTANTIATE_TEST_SUITE_P(Kernels, VulkanNormTest,
                         ::testing::Values(NormCase{"rmsnorm", false}, NormCase{"layernorm", false},
                                           NormCase{"layernorm", true}, NormCase{"residual_rmsnorm", false},
                                           NormCase{"residual_layernorm", true}),
                         [](const ::testing::TestParamInfo<NormCase>& info) {
                           return info.param.kernel + (info.param.beta ? "_beta" : "");
                         });

// cast with operands that are not 16-byte aligned, which no compiled
// Program has (the planner aligns every tensor) and which the kernel's
// scalar path serves, beside the same casts aligned (its 16-byte path,
// the tail of 3003 elements scalar). The conformance harness compares the
// aligned casts with NumPy; here an i32 copy carries values past 2^24,
// which only a copy of the bits keeps exact.
struct CastCase {
  DType from, to;
  int64_t shift;  // bytes added to both operands' offsets
};

class VulkanCastTest : public VulkanTest, public ::testing::WithParamInterface<CastCase> {};

TEST_P(VulkanCastTest, MatchesReference) {
  const CastCase c = GetParam();
  constexpr int64_t kRows = 3, kCols = 1001, kCount = kRows * kCols;
  ProgramBuilder b;
  b.program().alignment = 2;  // a Program may place tensors as loosely as this
  TensorRef x = b.arena(c.from, {Dim::fixed(kRows), Dim::fixed(kCols)});
  TensorRef y = b.arena(c.to, {Dim::fixed(kRows), Dim::fixed(kCols)});
  x.offset += c.shift;  // each tensor's 256-byte slot has room past its end
  y.offset += c.shift;
  b.input("x", x);
  b.output("y", y);
  b.dispatch("cast", "reference", {}, {x}, {y});
  ASSERT_EQ(load(b.json()), KILN_OK) << error_.message;

  const std::vector<float> values = random_values(kCount, 11, 100.0f);
  std::vector<uint8_t> in = bytes_of(values, c.from == DType::f16 ? DType::f16 : DType::f32);
  std::vector<uint8_t> want;
  if (c.from == DType::i32) {
    for (int64_t i = 0; i < kCount; ++i) {
      const int32_t v = (int32_t{1} << 24) + 1 + static_cast<int32_t>(i) * 7919;
      std::memcpy(&in[4 * i], &v, 4);
    }
    want = in;
  } else {
    want = bytes_of(c.from == DType::f16 ? through_f16(values) : values, c.to);
  }
  std::vector<std::vector<uint8_t>> out = {std::vector<uint8_t>(want.size())};
  ASSERT_EQ(step({}, {in}, out), KILN_OK) << error_.message;
  size_t failures = 0;
  for (size_t i = 0; i < want.size() && failures < 5; ++i) {
    if (out[0][i] != want[i]) {
      ADD_FAILURE() << "byte " << i << ": got " << int(out[0][i]) << ", want " << int(want[i]);
      ++failures;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Alignments, VulkanCastTest,
                         ::testing::Values(CastCase{DType::f32, DType::f32, 0}, CastCase{DType::f32, DType::f32, 4},
                                           CastCase{DType::f32, DType::f16, 0}, CastCase{DType::f32, DType::f16, 4},
                                           CastCase{DType::f16, DType::f32, 0}, CastCase{DType::f16, DType::f32, 2},
                                           CastCase{DType::f16, DType::f16, 2}, CastCase{DType::i32, DType::i32, 0},
                                           CastCase{DType::i32, DType::i32, 4}),
                         [](const ::testing::TestParamInfo<CastCase>& info) {
                           return std::string(program::dtype_name(info.param.from)) + "_to_" +
                                  std::string(program::dtype_name(info.param.to)) + "_shift" +
                                  std::to_string(info.param.shift);
                         });

}  // namespace
}  // namespace kiln::backends::vulkan::testing
