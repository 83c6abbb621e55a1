// The matrix products through the plugin's C ABI: matmul (gemv and tiled,
// both weight layouts, f32/f16/bf16 weights, bias, batched b),
// fused_gate_up and matmul_qkv, against products computed here in double.
// N exceeds a work-group, K is odd or a multiple of 8 (the vector path).

#include <cmath>

#include "gtest/gtest.h"
#include "tests/backends/opencl_test_support.h"

namespace kiln::backends::opencl_testing {
namespace {

using program::DType;

void expect_close(const std::vector<float>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int failures = 0;
  for (size_t i = 0; i < got.size() && failures < 5; ++i) {
    if (!(std::abs(got[i] - want[i]) <= 1e-4 + 1e-4 * std::abs(want[i]))) {
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
      ++failures;
    }
  }
}

// y[b, m, n] = sum_k x[b, m, k] * w[b?, k, n] (w[b?, n, k] when transposed) + bias[n].
std::vector<double> product(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>* bias,
                            int64_t batches, int64_t m, int64_t k, int64_t n, bool transpose_b, bool batched_w) {
  std::vector<double> y;
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t w_base = batched_w ? b * k * n : 0;
    for (int64_t r = 0; r < m; ++r) {
      for (int64_t c = 0; c < n; ++c) {
        double acc = bias ? (*bias)[c] : 0.0;
        for (int64_t i = 0; i < k; ++i) {
          acc += static_cast<double>(x[(b * m + r) * k + i]) * w[w_base + (transpose_b ? c * k + i : i * n + c)];
        }
        y.push_back(acc);
      }
    }
  }
  return y;
}

double silu(double v) { return v / (1 + std::exp(-v)); }
double gelu_tanh(double v) {
  return 0.5 * v * (1 + std::tanh(std::sqrt(2 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
}

class OpenclMatmulTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { KILN_REQUIRE_OPENCL(); }
};

// One Program per variant: rows 1 for gemv (decode), T = 5 of 8 for tiled.
TEST_P(OpenclMatmulTest, MatmulLayoutsAndWeightDtypes) {
  const std::string variant = GetParam();
  const int64_t rows = variant == "gemv" ? 1 : 5;
  ProgramBuilder b;
  b.slot("T", variant == "gemv" ? 1 : 8);
  const auto x37 = b.arena(DType::f32, {b.dim("T"), b.dim(37)});
  const auto x64 = b.arena(DType::f32, {b.dim("T"), b.dim(64)});
  const auto w_t = b.weight("w_t", DType::f16, {300, 37});
  const auto bias = b.weight("bias", DType::f32, {300});
  const auto w_bf = b.weight("w_bf", DType::bf16, {70, 64});
  const auto w_n = b.weight("w_n", DType::f32, {37, 290});
  const auto y_t = b.arena(DType::f32, {b.dim("T"), b.dim(300)});
  const auto y_bf = b.arena(DType::f32, {b.dim("T"), b.dim(70)});
  const auto y_n = b.arena(DType::f32, {b.dim("T"), b.dim(290)});
  b.input("x37", x37);
  b.input("x64", x64);
  b.output("y_t", y_t);
  b.output("y_bf", y_bf);
  b.output("y_n", y_n);
  // With the constants and step parameters the op registry derives.
  b.dispatch("matmul", variant,
             {bool_constant("transpose_b", true), int_constant("k", 37), int_constant("n", 300),
              bool_constant("b_batched", false), bool_constant("has_bias", true)},
             {x37, w_t, bias}, {y_t}, {{"m", "T"}, {"rows", "T"}});
  b.dispatch("matmul", variant, {bool_constant("transpose_b", true)}, {x64, w_bf}, {y_bf});
  b.dispatch("matmul", variant, {bool_constant("transpose_b", false)}, {x37, w_n}, {y_n});
  const std::vector<float> wt = rounded(DType::f16, random_floats(300 * 37, 30));
  const std::vector<float> bs = random_floats(300, 31);
  const std::vector<float> wbf = rounded(DType::bf16, random_floats(70 * 64, 32));
  const std::vector<float> wn = random_floats(37 * 290, 33);
  OpenclRun run;
  absl::Status compiled =
      run.compile(b, {encode(DType::f16, wt), encode(DType::f32, bs), encode(DType::bf16, wbf), encode(DType::f32, wn)});
  ASSERT_TRUE(compiled.ok()) << compiled;
  const std::vector<float> x1 = random_floats(rows * 37, 34), x2 = random_floats(rows * 64, 35);
  auto out = run.run({rows}, {encode(DType::f32, x1), encode(DType::f32, x2)});
  ASSERT_TRUE(out.ok()) << out.status();
  expect_close(decode(DType::f32, (*out)[0]), product(x1, wt, &bs, 1, rows, 37, 300, true, false), "f16 [N, K] + bias");
  expect_close(decode(DType::f32, (*out)[1]), product(x2, wbf, nullptr, 1, rows, 64, 70, true, false), "bf16 [N, K]");
  expect_close(decode(DType::f32, (*out)[2]), product(x1, wn, nullptr, 1, rows, 37, 290, false, false), "f32 [K, N]");
}

// One-row f16 products long enough in K that a gemv lane reads several
// rounds of 8-element chunks (prelude.cl's CHUNKS_PER_LANE, the loop the
// kernel unrolls whole), with and without a partial last round: 257 chunks
// over a team of 256 (kernel_table.cc's rule at 300 outputs), 385 and 512
// over a team of 128 (2,048 outputs).
TEST_P(OpenclMatmulTest, OneRowOverSeveralRoundsOfK) {
  const std::string variant = GetParam();
  const struct {
    int64_t n, k;
  } shapes[] = {{300, 2056}, {2048, 3080}, {2048, 4096}};
  ProgramBuilder b;
  std::vector<std::vector<uint8_t>> weights;
  std::vector<std::vector<float>> ws, xs;
  std::vector<std::vector<uint8_t>> inputs;
  for (const auto& s : shapes) {
    const std::string name = std::to_string(s.n) + "x" + std::to_string(s.k);
    const auto x = b.arena(DType::f32, {b.dim(1), b.dim(s.k)});
    const auto w = b.weight("w" + name, DType::f16, {s.n, s.k});
    const auto y = b.arena(DType::f32, {b.dim(1), b.dim(s.n)});
    b.input("x" + name, x);
    b.output("y" + name, y);
    b.dispatch("matmul", variant, {bool_constant("transpose_b", true)}, {x, w}, {y});
    ws.push_back(rounded(DType::f16, random_floats(s.n * s.k, 50 + s.k)));
    weights.push_back(encode(DType::f16, ws.back()));
    xs.push_back(random_floats(s.k, 51 + s.k));
    inputs.push_back(encode(DType::f32, xs.back()));
  }
  OpenclRun run;
  absl::Status compiled = run.compile(b, weights);
  ASSERT_TRUE(compiled.ok()) << compiled;
  auto out = run.run({}, inputs);
  ASSERT_TRUE(out.ok()) << out.status();
  for (size_t i = 0; i < std::size(shapes); ++i) {
    expect_close(decode(DType::f32, (*out)[i]),
                 product(xs[i], ws[i], nullptr, 1, 1, shapes[i].k, shapes[i].n, true, false),
                 std::to_string(shapes[i].n) + "x" + std::to_string(shapes[i].k));
  }
}

// A one-row product whose columns change from step to step (two
// activations): the kernel's team is a build constant, its launch follows
// each step's column count (kernel_table.cc). The Vulkan plugin refuses a
// symbolic last dim; this one runs it.
TEST_P(OpenclMatmulTest, OneRowOfSymbolicColumns) {
  const std::string variant = GetParam();
  ProgramBuilder b;
  b.slot("N", 700);
  const auto x = b.arena(DType::f32, {b.dim(1), b.dim(40)});
  const auto w = b.arena(DType::f32, {b.dim("N"), b.dim(40)});
  const auto y = b.arena(DType::f32, {b.dim(1), b.dim("N")});
  b.input("x", x);
  b.input("w", w);
  b.output("y", y);
  b.dispatch("matmul", variant, {bool_constant("transpose_b", true)}, {x, w}, {y});
  OpenclRun run;
  absl::Status compiled = run.compile(b, {});
  ASSERT_TRUE(compiled.ok()) << compiled;
  for (const int64_t n : {700, 37, 513}) {
    const std::vector<float> xs = random_floats(40, 40 + n), ws = random_floats(n * 40, 41 + n);
    auto out = run.run({n}, {encode(DType::f32, xs), encode(DType::f32, ws)});
    ASSERT_TRUE(out.ok()) << out.status();
    expect_close(decode(DType::f32, (*out)[0]), product(xs, ws, nullptr, 1, 1, 40, n, true, false),
                 "N = " + std::to_string(n));
  }
}

TEST_P(OpenclMatmulTest, BatchedProductsAndF16Activations) {
  const std::string variant = GetParam();
  ProgramBuilder b;
  const auto a = b.arena(DType::f32, {b.dim(3), b.dim(5), b.dim(9)});
  const auto w = b.arena(DType::f32, {b.dim(3), b.dim(9), b.dim(7)});
  const auto y = b.arena(DType::f32, {b.dim(3), b.dim(5), b.dim(7)});
  const auto q = b.arena(DType::f32, {b.dim(3), b.dim(4), b.dim(13)});
  const auto k = b.arena(DType::f32, {b.dim(3), b.dim(6), b.dim(13)});
  const auto s = b.arena(DType::f32, {b.dim(3), b.dim(4), b.dim(6)});
  const auto h = b.arena(DType::f16, {b.dim(5), b.dim(33)});
  const auto hw = b.weight("hw", DType::f16, {33, 6});
  const auto hy = b.arena(DType::f16, {b.dim(5), b.dim(6)});
  b.input("a", a);
  b.input("w", w);
  b.input("q", q);
  b.input("k", k);
  b.input("h", h);
  b.output("y", y);
  b.output("s", s);
  b.output("hy", hy);
  b.dispatch("matmul", variant, {bool_constant("transpose_b", false)}, {a, w}, {y});
  b.dispatch("matmul", variant, {bool_constant("transpose_b", true)}, {q, k}, {s});
  b.dispatch("matmul", variant, {bool_constant("transpose_b", false)}, {h, hw}, {hy});
  const std::vector<float> hws = rounded(DType::f16, random_floats(33 * 6, 40));
  OpenclRun run;
  ASSERT_TRUE(run.compile(b, {encode(DType::f16, hws)}).ok());
  const std::vector<float> as = random_floats(135, 41), ws = random_floats(189, 42), qs = random_floats(156, 43),
                           ks = random_floats(234, 44), hs = rounded(DType::f16, random_floats(165, 45));
  auto out = run.run({}, {encode(DType::f32, as), encode(DType::f32, ws), encode(DType::f32, qs),
                          encode(DType::f32, ks), encode(DType::f16, hs)});
  ASSERT_TRUE(out.ok()) << out.status();
  expect_close(decode(DType::f32, (*out)[0]), product(as, ws, nullptr, 3, 5, 9, 7, false, true), "batched b");
  expect_close(decode(DType::f32, (*out)[1]), product(qs, ks, nullptr, 3, 4, 13, 6, true, true), "batched b^T");
  std::vector<double> want = product(hs, hws, nullptr, 1, 5, 33, 6, false, false);
  for (double& v : want) v = rounded(DType::f16, {static_cast<float>(v)})[0];
  const std::vector<float> got = decode(DType::f16, (*out)[2]);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 2e-3 * std::abs(want[i]) + 1e-4) << i;
}

TEST_P(OpenclMatmulTest, FusedGateUpAndQkv) {
  const std::string variant = GetParam();
  const int64_t rows = variant == "gemv" ? 1 : 5;
  ProgramBuilder b;
  b.slot("T", variant == "gemv" ? 1 : 8);
  const auto x = b.arena(DType::f32, {b.dim("T"), b.dim(40)});
  const auto wg = b.weight("wg", DType::f16, {300, 40});
  const auto wu = b.weight("wu", DType::f16, {300, 40});
  const auto wq = b.weight("wq", DType::f16, {24, 40});
  const auto wk = b.weight("wk", DType::f16, {12, 40});
  const auto wv = b.weight("wv", DType::f32, {12, 40});
  const auto bq = b.weight("bq", DType::f32, {24});
  const auto bk = b.weight("bk", DType::f32, {12});
  const auto bv = b.weight("bv", DType::f32, {12});
  const auto silu_up = b.arena(DType::f32, {b.dim("T"), b.dim(300)});
  const auto gelu_up = b.arena(DType::f32, {b.dim("T"), b.dim(300)});
  const auto q = b.arena(DType::f32, {b.dim("T"), b.dim(24)});
  const auto k = b.arena(DType::f32, {b.dim("T"), b.dim(12)});
  const auto v = b.arena(DType::f32, {b.dim("T"), b.dim(12)});
  b.input("x", x);
  for (const auto& ref : {silu_up, gelu_up, q, k, v}) b.output("y", ref);
  const program::Constant transpose = bool_constant("transpose_b", true);
  b.dispatch("fused_gate_up", variant,
             {int_constant("act", 0), int_constant("approximate", 0), transpose, int_constant("k", 40),
              int_constant("n", 300)},
             {x, wg, wu}, {silu_up}, {{"rows", "T"}});
  b.dispatch("fused_gate_up", variant, {int_constant("act", 1), int_constant("approximate", 1), transpose},
             {x, wg, wu}, {gelu_up});
  b.dispatch("matmul_qkv", variant, {transpose}, {x, wq, wk, wv, bq, bk, bv}, {q, k, v});
  const std::vector<float> wgs = rounded(DType::f16, random_floats(12000, 50)),
                           wus = rounded(DType::f16, random_floats(12000, 51)),
                           wqs = rounded(DType::f16, random_floats(960, 52)),
                           wks = rounded(DType::f16, random_floats(480, 53)), wvs = random_floats(480, 54),
                           bqs = random_floats(24, 55), bks = random_floats(12, 56), bvs = random_floats(12, 57);
  OpenclRun run;
  absl::Status compiled = run.compile(
      b, {encode(DType::f16, wgs), encode(DType::f16, wus), encode(DType::f16, wqs), encode(DType::f16, wks),
          encode(DType::f32, wvs), encode(DType::f32, bqs), encode(DType::f32, bks), encode(DType::f32, bvs)});
  ASSERT_TRUE(compiled.ok()) << compiled;
  const std::vector<float> xs = random_floats(rows * 40, 58);
  auto out = run.run({rows}, {encode(DType::f32, xs)});
  ASSERT_TRUE(out.ok()) << out.status();
  const std::vector<double> gate = product(xs, wgs, nullptr, 1, rows, 40, 300, true, false);
  const std::vector<double> up = product(xs, wus, nullptr, 1, rows, 40, 300, true, false);
  std::vector<double> want_silu, want_gelu;
  for (size_t i = 0; i < gate.size(); ++i) {
    want_silu.push_back(silu(gate[i]) * up[i]);
    want_gelu.push_back(gelu_tanh(gate[i]) * up[i]);
  }
  expect_close(decode(DType::f32, (*out)[0]), want_silu, "fused_gate_up silu");
  expect_close(decode(DType::f32, (*out)[1]), want_gelu, "fused_gate_up gelu tanh");
  expect_close(decode(DType::f32, (*out)[2]), product(xs, wqs, &bqs, 1, rows, 40, 24, true, false), "q");
  expect_close(decode(DType::f32, (*out)[3]), product(xs, wks, &bks, 1, rows, 40, 12, true, false), "k");
  expect_close(decode(DType::f32, (*out)[4]), product(xs, wvs, &bvs, 1, rows, 40, 12, true, false), "v");
}

INSTANTIATE_TEST_SUITE_P(Variants, OpenclMatmulTest, ::testing::Values("gemv", "tiled"));

}  // namespace
}  // namespace kiln::backends::opencl_testing

namespace kiln::backends::opencl_testing {
namespace {

// The gemv fast path widens f16 itself: subnormals, the largest half and
// signed zeros must come out exactly as the host's f16_to_f32 gives them.
TEST(OpenclMatmulSpecialValuesTest, F16WeightsWidenExactly) {
  KILN_REQUIRE_OPENCL();
  ProgramBuilder b;
  const auto x = b.arena(DType::f32, {b.dim(1), b.dim(16)});
  const auto w = b.weight("w", DType::f16, {16, 16});
  const auto y = b.arena(DType::f32, {b.dim(1), b.dim(16)});
  b.input("x", x);
  b.output("y", y);
  b.dispatch("matmul", "gemv", {bool_constant("transpose_b", true)}, {x, w}, {y});
  // Row n of w holds one special value at column n, zeros elsewhere; x is
  // a one-hot at the same column, so y[n] is exactly the widened value.
  const float specials[16] = {5.9604645e-08f, -5.9604645e-08f, 6.0975552e-05f, 65504.0f, -65504.0f, -0.0f,
                              1.0f, -2.0f, 0.333251953f, 3.0517578e-05f, 1e-6f, -1e-7f, 1024.0f, 0.5f, -0.25f, 7.0f};
  std::vector<float> ws(256, 0.0f);
  for (int n = 0; n < 16; ++n) ws[n * 16 + n] = specials[n];
  const std::vector<float> exact = rounded(DType::f16, ws);
  OpenclRun run;
  ASSERT_TRUE(run.compile(b, {encode(DType::f16, ws)}).ok());
  for (int n = 0; n < 16; ++n) {
    std::vector<float> xs(16, 0.0f);
    xs[n] = 1.0f;
    auto out = run.run({}, {encode(DType::f32, xs)});
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(decode(DType::f32, (*out)[0])[n], exact[n * 16 + n]) << "special value " << n;
  }
}

}  // namespace
}  // namespace kiln::backends::opencl_testing
