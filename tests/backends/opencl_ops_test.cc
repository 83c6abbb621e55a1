// Each OpenCL kernel through the plugin's C ABI, on a hand-built Program,
// against values computed here in double. Shapes are odd on purpose (not
// multiples of 4, 16 or 32; N larger than a work-group; K not a multiple of
// a tile), steps have T > 1 with P > 0, and each weight dtype is read.
// Kernels accumulate in f32, hence the tolerances.

#include <cmath>
#include <numbers>

#include "gtest/gtest.h"
#include "tests/backends/opencl_test_support.h"

namespace kiln::backends::opencl_testing {
namespace {

using program::DType;
using program::Shape;

constexpr double kAtol = 2e-5;
constexpr double kRtol = 2e-5;

void expect_close(const std::vector<float>& got, const std::vector<double>& want, const std::string& what,
                  double atol = kAtol, double rtol = kRtol) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int failures = 0;
  for (size_t i = 0; i < got.size() && failures < 5; ++i) {
    if (!(std::abs(got[i] - want[i]) <= atol + rtol * std::abs(want[i]))) {
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
      ++failures;
    }
  }
}

std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

class OpenclOpsTest : public ::testing::Test {
 protected:
  void SetUp() override { KILN_REQUIRE_OPENCL(); }
};

// ---- Elementwise ----------------------------------------------------------------

TEST_F(OpenclOpsTest, ActivationsAndScale) {
  ProgramBuilder b;
  const Shape shape{b.dim(3), b.dim(29)};
  const auto x = b.arena(DType::f32, shape);
  b.input("x", x);
  const char* ops[] = {"silu", "gelu", "gelu_tanh", "relu", "scale"};
  for (const char* op : ops) {
    const auto y = b.arena(DType::f32, shape);
    b.output(op, y);
    const std::string name = op;
    if (name == "gelu" || name == "gelu_tanh") {
      program::Constant approximate = int_constant("approximate", name == "gelu_tanh" ? 1 : 0);
      approximate.symbol = name == "gelu_tanh" ? "tanh" : "none";
      b.dispatch("gelu", "elementwise", {approximate}, {x}, {y});
    } else if (name == "scale") {
      b.dispatch("scale", "elementwise", {real_constant("scale", -0.37)}, {x}, {y});
    } else {
      b.dispatch(name, "elementwise", {}, {x}, {y});
    }
  }
  OpenclRun run;
  ASSERT_TRUE(run.compile(b).ok()) << run.compile(b);
  const std::vector<float> xs = random_floats(87, 1, 5.0f);
  auto out = run.run({}, {encode(DType::f32, xs)});
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<std::vector<double>> want(5);
  for (float f : xs) {
    const double v = f;
    want[0].push_back(v / (1 + std::exp(-v)));
    want[1].push_back(0.5 * v * (1 + std::erf(v / std::numbers::sqrt2)));
    want[2].push_back(0.5 * v * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (v + 0.044715 * v * v * v))));
    want[3].push_back(v > 0 ? v : 0);
    want[4].push_back(v * -0.37);
  }
  for (int i = 0; i < 5; ++i) expect_close(decode(DType::f32, (*out)[i]), want[i], ops[i]);
}

TEST_F(OpenclOpsTest, AddAndMulBroadcastOverLeadingDims) {
  ProgramBuilder b;
  b.slot("T", 8);
  const Shape shape{b.dim("T"), b.dim(3), b.dim(7)};
  const auto a = b.arena(DType::f32, shape);
  const auto w = b.weight("w", DType::f16, {7});
  const auto c = b.arena(DType::f16, {b.dim(3), b.dim(7)});
  const auto sum = b.arena(DType::f32, shape);
  const auto product = b.arena(DType::f32, shape);
  b.input("a", a);
  b.input("c", c);
  b.output("sum", sum);
  b.output("product", product);
  b.dispatch("add", "elementwise", {}, {a, w}, {sum});
  b.dispatch("mul", "elementwise", {}, {a, c}, {product});
  const std::vector<float> ws = rounded(DType::f16, random_floats(7, 2));
  OpenclRun run;
  ASSERT_TRUE(run.compile(b, {encode(DType::f16, ws)}).ok());
  const std::vector<float> as = random_floats(5 * 21, 3);
  const std::vector<float> cs = rounded(DType::f16, random_floats(21, 4));
  auto out = run.run({5}, {encode(DType::f32, as), encode(DType::f16, cs)});
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<double> want_sum, want_product;
  for (size_t i = 0; i < as.size(); ++i) {
    want_sum.push_back(static_cast<double>(as[i]) + ws[i % 7]);
    want_product.push_back(static_cast<double>(as[i]) * cs[i % 21]);
  }
  expect_close(decode(DType::f32, (*out)[0]), want_sum, "add");
  expect_close(decode(DType::f32, (*out)[1]), want_product, "mul");
}

TEST_F(OpenclOpsTest, Casts) {
  ProgramBuilder b;
  const Shape shape{b.dim(3), b.dim(7)};
  const auto x = b.arena(DType::f32, shape);
  const auto h = b.arena(DType::f16, shape);
  const auto back = b.arena(DType::f32, shape);
  const auto ints = b.arena(DType::i32, shape);
  const auto floats = b.arena(DType::f32, shape);
  b.input("x", x);
  for (const auto& ref : {h, back, ints, floats}) b.output("y", ref);
  b.dispatch("cast", "elementwise", {}, {x}, {h});
  b.dispatch("cast", "elementwise", {}, {h}, {back});
  b.dispatch("cast", "elementwise", {}, {x}, {ints});
  b.dispatch("cast", "elementwise", {}, {ints}, {floats});
  OpenclRun run;
  ASSERT_TRUE(run.compile(b).ok());
  const std::vector<float> xs = random_floats(21, 5, 100.0f);
  auto out = run.run({}, {encode(DType::f32, xs)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0], encode(DType::f16, xs));
  expect_close(decode(DType::f32, (*out)[1]), widen(rounded(DType::f16, xs)), "f16 -> f32", 0, 0);
  std::vector<double> truncated;
  for (float v : xs) truncated.push_back(std::trunc(v));
  expect_close(decode(DType::i32, (*out)[2]), truncated, "f32 -> i32", 0, 0);
  expect_close(decode(DType::f32, (*out)[3]), truncated, "i32 -> f32", 0, 0);
}

// ---- Row reductions -----------------------------------------------------------

std::vector<double> rmsnorm_reference(const std::vector<float>& x, const std::vector<float>& w, int64_t cols,
                                      double eps) {
  std::vector<double> out;
  for (size_t r = 0; r < x.size() / cols; ++r) {
    double squares = 0;
    for (int64_t i = 0; i < cols; ++i) squares += static_cast<double>(x[r * cols + i]) * x[r * cols + i];
    const double inv = 1 / std::sqrt(squares / cols + eps);
    for (int64_t i = 0; i < cols; ++i) out.push_back(x[r * cols + i] * inv * w[i]);
  }
  return out;
}

std::vector<double> layernorm_reference(const std::vector<float>& x, const std::vector<float>& w,
                                        const std::vector<float>* bias, int64_t cols, double eps) {
  std::vector<double> out;
  for (size_t r = 0; r < x.size() / cols; ++r) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < cols; ++i) mean += x[r * cols + i];
    mean /= cols;
    for (int64_t i = 0; i < cols; ++i) var += (x[r * cols + i] - mean) * (x[r * cols + i] - mean);
    const double inv = 1 / std::sqrt(var / cols + eps);
    for (int64_t i = 0; i < cols; ++i) out.push_back((x[r * cols + i] - mean) * inv * w[i] + (bias ? (*bias)[i] : 0));
  }
  return out;
}

TEST_F(OpenclOpsTest, Norms) {
  ProgramBuilder b;
  b.slot("T", 8);
  const auto x = b.arena(DType::f32, {b.dim("T"), b.dim(67)});
  const auto g = b.weight("g", DType::f32, {67});
  const auto rms = b.arena(DType::f32, {b.dim("T"), b.dim(67)});
  const auto lx = b.arena(DType::f16, {b.dim(5), b.dim(45)});
  const auto lw = b.weight("lw", DType::f32, {45});
  const auto lb = b.weight("lb", DType::bf16, {45});
  const auto ln = b.arena(DType::f32, {b.dim(5), b.dim(45)});
  const auto sx = b.arena(DType::f32, {b.dim(4), b.dim(3), b.dim(33)});
  const auto sm = b.arena(DType::f32, {b.dim(4), b.dim(3), b.dim(33)});
  b.input("x", x);
  b.input("lx", lx);
  b.input("sx", sx);
  b.output("rms", rms);
  b.output("ln", ln);
  b.output("sm", sm);
  b.dispatch("rmsnorm", "workgroup", {real_constant("eps", 1e-6)}, {x, g}, {rms});
  b.dispatch("layernorm", "workgroup", {real_constant("eps", 1e-3)}, {lx, lw, lb}, {ln});
  b.dispatch("softmax", "workgroup", {int_constant("axis", -1)}, {sx}, {sm});
  const std::vector<float> gs = random_floats(67, 6);
  const std::vector<float> lws = random_floats(45, 7);
  const std::vector<float> lbs = rounded(DType::bf16, random_floats(45, 8));
  OpenclRun run;
  ASSERT_TRUE(run.compile(b, {encode(DType::f32, gs), encode(DType::f32, lws), encode(DType::bf16, lbs)}).ok());
  const std::vector<float> xs = random_floats(3 * 67, 9, 3.0f);
  const std::vector<float> lxs = rounded(DType::f16, random_floats(5 * 45, 10, 2.0f));
  const std::vector<float> sxs = random_floats(4 * 3 * 33, 11, 8.0f);
  auto out = run.run({3}, {encode(DType::f32, xs), encode(DType::f16, lxs), encode(DType::f32, sxs)});
  ASSERT_TRUE(out.ok()) << out.status();
  expect_close(decode(DType::f32, (*out)[0]), rmsnorm_reference(xs, gs, 67, 1e-6), "rmsnorm");
  expect_close(decode(DType::f32, (*out)[1]), layernorm_reference(lxs, lws, &lbs, 45, 1e-3), "layernorm");
  std::vector<double> want;
  for (size_t r = 0; r < 12; ++r) {
    double top = -INFINITY, total = 0;
    for (int i = 0; i < 33; ++i) top = std::max<double>(top, sxs[r * 33 + i]);
    for (int i = 0; i < 33; ++i) total += std::exp(sxs[r * 33 + i] - top);
    for (int i = 0; i < 33; ++i) want.push_back(std::exp(sxs[r * 33 + i] - top) / total);
  }
  expect_close(decode(DType::f32, (*out)[2]), want, "softmax");
}

TEST_F(OpenclOpsTest, ResidualNormsWriteTheSumAndTheNorm) {
  ProgramBuilder b;
  const Shape shape{b.dim(3), b.dim(300)};
  const auto a = b.arena(DType::f32, shape);
  const auto h = b.arena(DType::f32, shape);
  const auto g = b.weight("g", DType::f16, {300});
  const auto beta = b.weight("beta", DType::f32, {300});
  const auto sum = b.arena(DType::f32, shape);
  const auto rms = b.arena(DType::f32, shape);
  const auto sum2 = b.arena(DType::f32, shape);
  const auto ln = b.arena(DType::f32, shape);
  b.input("a", a);
  b.input("h", h);
  b.output("sum", sum);
  b.output("rms", rms);
  b.output("sum2", sum2);
  b.output("ln", ln);
  b.dispatch("residual_rmsnorm", "workgroup", {real_constant("eps", 1e-5)}, {a, h, g}, {sum, rms});
  b.dispatch("residual_layernorm", "workgroup", {real_constant("eps", 1e-5)}, {a, h, g, beta}, {sum2, ln});
  const std::vector<float> gs = rounded(DType::f16, random_floats(300, 12));
  const std::vector<float> betas = random_floats(300, 13);
  OpenclRun run;
  ASSERT_TRUE(run.compile(b, {encode(DType::f16, gs), encode(DType::f32, betas)}).ok());
  const std::vector<float> as = random_floats(900, 14), hs = random_floats(900, 15);
  auto out = run.run({}, {encode(DType::f32, as), encode(DType::f32, hs)});
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<float> sums(900);
  for (size_t i = 0; i < 900; ++i) sums[i] = as[i] + hs[i];
  expect_close(decode(DType::f32, (*out)[0]), widen(sums), "sum", 0, 0);
  expect_close(decode(DType::f32, (*out)[1]), rmsnorm_reference(sums, gs, 300, 1e-5), "residual_rmsnorm");
  expect_close(decode(DType::f32, (*out)[2]), widen(sums), "sum", 0, 0);
  expect_close(decode(DType::f32, (*out)[3]), layernorm_reference(sums, gs, &betas, 300, 1e-5), "residual_layernorm");
}

TEST_F(OpenclOpsTest, ArgmaxTakesTheFirstLargest) {
  ProgramBuilder b;
  b.slot("T", 8);
  const auto x = b.arena(DType::f32, {b.dim("T"), b.dim(37)});
  const auto ids = b.arena(DType::i32, {b.dim("T")});
  const auto v = b.arena(DType::f16, {b.dim(1000)});
  const auto id = b.arena(DType::i32, {b.dim(1)});
  b.input("x", x);
  b.input("v", v);
  b.output("ids", ids);
  b.output("id", id);
  b.dispatch("argmax", "workgroup", {}, {x}, {ids});
  b.dispatch("argmax", "workgroup", {}, {v}, {id});
  OpenclRun run;
  ASSERT_TRUE(run.compile(b).ok());
  std::vector<float> xs = random_floats(4 * 37, 16);
  xs[37 + 30] = 5.0f;
  xs[37 + 3] = 5.0f;  // a tie: the first index wins
  std::vector<float> vs = rounded(DType::f16, random_floats(1000, 17));
  vs[777] = 9.0f;
  auto out = run.run({4}, {encode(DType::f32, xs), encode(DType::f16, vs)});
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<double> want;
  for (int r = 0; r < 4; ++r) {
    want.push_back(std::max_element(xs.begin() + r * 37, xs.begin() + (r + 1) * 37) - (xs.begin() + r * 37));
  }
  expect_close(decode(DType::i32, (*out)[0]), want, "argmax rows", 0, 0);
  expect_close(decode(DType::i32, (*out)[1]), {777}, "argmax vector", 0, 0);
}

// ---- Layout ---------------------------------------------------------------------

TEST_F(OpenclOpsTest, EmbeddingSliceConcat) {
  ProgramBuilder b;
  b.slot("T", 8);
  const auto table = b.weight("table", DType::f16, {53, 13});
  const auto ids = b.arena(DType::i32, {b.dim("T")});
  const auto rows = b.arena(DType::f16, {b.dim("T"), b.dim(13)});
  const auto last = b.arena(DType::f16, {b.dim(1), b.dim(13)});
  const auto x = b.arena(DType::f32, {b.dim(4), b.dim(9)});
  const auto middle = b.arena(DType::f32, {b.dim(4), b.dim(6)});
  const auto p = b.arena(DType::f32, {b.dim(3), b.dim(2), b.dim(5)});
  const auto q = b.arena(DType::f32, {b.dim(3), b.dim(4), b.dim(5)});
  const auto joined = b.arena(DType::f32, {b.dim(3), b.dim(6), b.dim(5)});
  b.input("ids", ids);
  b.input("x", x);
  b.input("p", p);
  b.input("q", q);
  b.output("rows", rows);
  b.output("last", last);
  b.output("middle", middle);
  b.output("joined", joined);
  b.dispatch("embedding", "gather", {}, {table, ids}, {rows});
  b.dispatch("slice", "elementwise", {int_constant("axis", 0), int_constant("start", -1), int_constant("end", 0)},
             {rows}, {last});
  b.dispatch("slice", "elementwise", {int_constant("axis", 1), int_constant("start", 2), int_constant("end", -1)},
             {x}, {middle});
  b.dispatch("concat", "elementwise", {int_constant("axis", -2)}, {p, q}, {joined});
  const std::vector<float> ts = random_floats(53 * 13, 18);
  OpenclRun run;
  ASSERT_TRUE(run.compile(b, {encode(DType::f16, ts)}).ok());
  const std::vector<float> id_values = {52, 0, 17, 3, 40};
  const std::vector<float> xs = random_floats(36, 19), ps = random_floats(30, 20), qs = random_floats(60, 21);
  auto out = run.run({5}, {encode(DType::i32, id_values), encode(DType::f32, xs), encode(DType::f32, ps),
                           encode(DType::f32, qs)});
  ASSERT_TRUE(out.ok()) << out.status();
  const std::vector<float> table_values = rounded(DType::f16, ts);
  std::vector<double> want_rows, want_middle, want_joined;
  for (float id : id_values) {
    for (int i = 0; i < 13; ++i) want_rows.push_back(table_values[static_cast<int>(id) * 13 + i]);
  }
  const std::vector<double> want_last(want_rows.end() - 13, want_rows.end());
  for (int r = 0; r < 4; ++r) {
    for (int i = 2; i < 8; ++i) want_middle.push_back(xs[r * 9 + i]);
  }
  for (int o = 0; o < 3; ++o) {
    for (int i = 0; i < 10; ++i) want_joined.push_back(ps[o * 10 + i]);
    for (int i = 0; i < 20; ++i) want_joined.push_back(qs[o * 20 + i]);
  }
  expect_close(decode(DType::f16, (*out)[0]), want_rows, "embedding", 0, 0);
  expect_close(decode(DType::f16, (*out)[1]), want_last, "slice last row", 0, 0);
  expect_close(decode(DType::f32, (*out)[2]), want_middle, "slice", 0, 0);
  expect_close(decode(DType::f32, (*out)[3]), want_joined, "concat", 0, 0);
}

}  // namespace
}  // namespace kiln::backends::opencl_testing

namespace kiln::backends::opencl_testing {
namespace {

TEST_F(OpenclOpsTest, TransposeRotatesDims) {
  ProgramBuilder b;
  const auto x = b.arena(DType::f16, {b.dim(3), b.dim(5), b.dim(7)});
  const auto y = b.arena(DType::f16, {b.dim(7), b.dim(3), b.dim(5)});
  b.input("x", x);
  b.output("y", y);
  // The constants the op registry derives: rank, dim<i>, perm<i>.
  b.dispatch("transpose", "elementwise",
             {int_constant("rank", 3), int_constant("dim0", 3), int_constant("dim1", 5), int_constant("dim2", 7),
              int_constant("perm0", 2), int_constant("perm1", 0), int_constant("perm2", 1)},
             {x}, {y});
  OpenclRun run;
  absl::Status compiled = run.compile(b);
  ASSERT_TRUE(compiled.ok()) << compiled;
  const std::vector<float> xs = rounded(DType::f16, random_floats(105, 90));
  auto out = run.run({}, {encode(DType::f16, xs)});
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<double> want;
  for (int k = 0; k < 7; ++k) {
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 5; ++j) want.push_back(xs[(i * 5 + j) * 7 + k]);
    }
  }
  expect_close(decode(DType::f16, (*out)[0]), want, "transpose", 0, 0);
}

TEST_F(OpenclOpsTest, TopKAfterTheRepetitionPenalty) {
  ProgramBuilder b;
  b.slot("T", 4);
  const auto logits = b.arena(DType::f32, {b.dim("T"), b.dim(1000)});
  const auto recent = b.arena(DType::i32, {b.dim(6)});
  const auto ids = b.arena(DType::i32, {b.dim(7)});
  const auto values = b.arena(DType::f32, {b.dim(7)});
  b.input("logits", logits);
  b.input("recent", recent);
  b.output("ids", ids);
  b.output("values", values);
  b.dispatch("top_k", "workgroup",
             {int_constant("k", 7), real_constant("penalty", 1.3), int_constant("vocab", 1000),
              int_constant("window", 6)},
             {logits, recent}, {ids, values}, {{"rows", "T"}});
  OpenclRun run;
  absl::Status compiled = run.compile(b);
  ASSERT_TRUE(compiled.ok()) << compiled;
  std::vector<float> xs = random_floats(2000, 91, 4.0f);
  float* last = xs.data() + 1000;
  last[10] = 9.0f;    // penalised to 9 / 1.3 = 6.92...
  last[20] = 7.0f;
  last[30] = 7.0f;    // ties 20: the lower id first
  last[40] = NAN;     // never chosen
  last[50] = -0.5f;   // penalised further down
  last[999] = 6.5f;
  const std::vector<float> recent_ids = {10, -1, 50, 10, 40, 2000};
  auto out = run.run({2}, {encode(DType::f32, xs), encode(DType::i32, recent_ids)});
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<std::pair<double, int>> ranked;
  for (int i = 0; i < 1000; ++i) {
    double v = std::isnan(last[i]) ? -INFINITY : last[i];
    if (i == 10 || i == 50 || i == 40) v = v > 0 ? v / 1.3 : v * 1.3;
    ranked.push_back({-v, i});
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<double> want_ids, want_values;
  for (int i = 0; i < 7; ++i) {
    want_ids.push_back(ranked[i].second);
    want_values.push_back(last[ranked[i].second]);
  }
  expect_close(decode(DType::i32, (*out)[0]), want_ids, "top_k ids", 0, 0);
  expect_close(decode(DType::f32, (*out)[1]), want_values, "top_k values", 0, 0);
}

}  // namespace
}  // namespace kiln::backends::opencl_testing
