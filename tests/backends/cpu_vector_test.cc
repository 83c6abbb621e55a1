// The Highway vector kernels (kernels/cpu/vector) on every instruction set
// this machine runs, each forced in turn, against a plain double-precision
// loop on odd shapes: sizes that are not multiples of any vector width, so
// every tile, remainder row and partial vector is taken. The projections'
// tolerance is stated here; the row kernels' (attention, rmsnorm) above
// their tests, as is the silu product's.
//
// Tolerance. The weights are drawn as stored bits and the reference reads
// the exact value those bits mean (f16 and bf16 widen to f32 exactly), so
// the kernel's only error is its own f32 rounding: k products and k + lanes
// adds. Each output must then lie within (k + 8) * 2^-24 * (sum_k |x w| +
// |bias|) of the exact sum (Higham's bound for a sum of k products):
//   f32:  that bound;
//   f16:  that bound (binary16 widens exactly, subnormals included);
//   bf16: that bound (bfloat16 is the top half of an f32).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/vector/attention.h"
#include "kernels/cpu/vector/gated.h"
#include "kernels/cpu/vector/gemv.h"
#include "kernels/cpu/vector/matmul.h"
#include "kernels/cpu/vector/rmsnorm.h"
#include "kernels/cpu/vector/targets.h"

namespace kiln::kernels::cpu::vector {
namespace {

enum class WeightType { f32, f16, bf16 };

constexpr WeightType kWeightTypes[] = {WeightType::f32, WeightType::f16, WeightType::bf16};
constexpr WeightLayout kLayouts[] = {WeightLayout::n_by_k, WeightLayout::k_by_n};
constexpr int64_t kSizes[] = {1, 3, 17, 67, 255, 577};

const char* type_name(WeightType type) {
  switch (type) {
    case WeightType::f32: return "f32";
    case WeightType::f16: return "f16";
    case WeightType::bf16: return "bf16";
  }
  return "?";
}

const char* layout_name(WeightLayout layout) { return layout == WeightLayout::n_by_k ? "n_by_k" : "k_by_n"; }

// IEEE binary16, decoded by its definition rather than by any converter
// under test.
double half_value(uint16_t bits) {
  const int exponent = (bits >> 10) & 0x1f;
  const double mantissa = bits & 0x3ff;
  const double magnitude =
      exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024.0 + mantissa, exponent - 25);
  return (bits & 0x8000) ? -magnitude : magnitude;
}

double bfloat_value(uint16_t bits) {
  const uint32_t word = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &word, sizeof(value));
  return value;
}

// A weight as stored, and the exact value of every element.
struct Weights {
  WeightType type = WeightType::f32;
  std::vector<float> f32;
  std::vector<uint16_t> bits;
  std::vector<double> values;

  const void* data() const { return type == WeightType::f32 ? static_cast<const void*>(f32.data()) : bits.data(); }
};

// Magnitudes below 2: f16 exponents 0..15 (0 being subnormals), bf16
// exponents 112..127, random mantissas and signs.
Weights random_weights(WeightType type, size_t count, std::mt19937& rng) {
  Weights w;
  w.type = type;
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::uniform_int_distribution<uint32_t> bits(0, 0xffff);
  for (size_t i = 0; i < count; ++i) {
    const uint32_t r = bits(rng);
    if (type == WeightType::f32) {
      w.f32.push_back(uniform(rng));
      w.values.push_back(w.f32.back());
    } else if (type == WeightType::f16) {
      w.bits.push_back(static_cast<uint16_t>((r & 0x83ff) | ((r >> 10) & 0xf) << 10));
      w.values.push_back(half_value(w.bits.back()));
    } else {
      w.bits.push_back(static_cast<uint16_t>((r & 0x807f) | (112 + ((r >> 7) & 0xf)) << 7));
      w.values.push_back(bfloat_value(w.bits.back()));
    }
  }
  return w;
}

std::vector<float> random_floats(size_t count, std::mt19937& rng) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float& v : values) v = uniform(rng);
  return values;
}

// One projection y[m, n] = bias[n] + sum_k x[m, k] W(n, k), with its inputs.
struct Problem {
  int64_t m = 1, n = 1, k = 1;
  WeightLayout layout = WeightLayout::n_by_k;
  std::vector<float> x;
  Weights w;
  std::vector<float> bias;  // empty for none

  double weight(int64_t row, int64_t col) const {
    return w.values[layout == WeightLayout::n_by_k ? row * k + col : col * n + row];
  }
  MatmulArgs matmul_args(float* y) const {
    return MatmulArgs{x.data(), w.data(), bias.empty() ? nullptr : bias.data(), y, m, n, k, layout};
  }
  GemvArgs gemv_args(float* y) const {
    return GemvArgs{x.data(), w.data(), bias.empty() ? nullptr : bias.data(), y, n, k, layout};
  }
};

Problem random_problem(WeightType type, WeightLayout layout, int64_t m, int64_t n, int64_t k, bool with_bias) {
  std::mt19937 rng(static_cast<uint32_t>(m * 1000003 + n * 1009 + k));
  Problem p{m, n, k, layout, random_floats(m * k, rng), random_weights(type, n * k, rng), {}};
  if (with_bias) p.bias = random_floats(n, rng);
  return p;
}

void run_matmul(WeightType type, const MatmulArgs& args, int64_t n_begin, int64_t n_end) {
  switch (type) {
    case WeightType::f32: return matmul_f32(args, n_begin, n_end);
    case WeightType::f16: return matmul_f16(args, n_begin, n_end);
    case WeightType::bf16: return matmul_bf16(args, n_begin, n_end);
  }
}

void run_gemv(WeightType type, const GemvArgs& args, int64_t n_begin, int64_t n_end) {
  switch (type) {
    case WeightType::f32: return gemv_f32(args, n_begin, n_end);
    case WeightType::f16: return gemv_f16(args, n_begin, n_end);
    case WeightType::bf16: return gemv_bf16(args, n_begin, n_end);
  }
}

// Checks every output of `p` against the double loop and the bound above.
void expect_near_reference(const Problem& p, const std::vector<float>& y) {
  int failures = 0;
  for (int64_t row = 0; row < p.m; ++row) {
    for (int64_t col = 0; col < p.n; ++col) {
      double sum = p.bias.empty() ? 0.0 : p.bias[col];
      double magnitude = std::abs(sum);
      for (int64_t i = 0; i < p.k; ++i) {
        const double term = static_cast<double>(p.x[row * p.k + i]) * p.weight(col, i);
        sum += term;
        magnitude += std::abs(term);
      }
      const double tolerance = (p.k + 8) * std::ldexp(magnitude, -24);
      const double got = y[row * p.n + col];
      if (!(std::abs(got - sum) <= tolerance) && ++failures <= 5) {
        ADD_FAILURE() << "y[" << row << ", " << col << "] = " << got << ", expected " << sum << " within "
                      << tolerance;
      }
    }
  }
}

std::string shape_trace(const Problem& p) {
  return std::string(type_name(p.w.type)) + " " + layout_name(p.layout) + " m=" + std::to_string(p.m) +
         " n=" + std::to_string(p.n) + " k=" + std::to_string(p.k) + (p.bias.empty() ? "" : " +bias");
}

// Each test runs once per target this machine runs, with dispatch forced to it.
class CpuVectorTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override {
    force_target(GetParam());
    ASSERT_STREQ(active_target(), target_name(GetParam()));
  }
  void TearDown() override { force_target(0); }
};

TEST_P(CpuVectorTest, GemvMatchesDoubleLoop) {
  for (WeightType type : kWeightTypes) {
    for (WeightLayout layout : kLayouts) {
      for (int64_t n : kSizes) {
        for (int64_t k : kSizes) {
          const Problem p = random_problem(type, layout, 1, n, k, (n + k) % 2 == 0);
          SCOPED_TRACE(shape_trace(p));
          std::vector<float> y(n, std::numeric_limits<float>::quiet_NaN());
          run_gemv(type, p.gemv_args(y.data()), 0, n);
          expect_near_reference(p, y);
        }
      }
    }
  }
}

TEST_P(CpuVectorTest, MatmulMatchesDoubleLoop) {
  // (m, n, k): remainders of every tile in m and n, partial vectors in k;
  // the last spans several row blocks (256 KB of x each).
  const int64_t shapes[][3] = {{2, 1, 1},    {3, 17, 3},    {5, 3, 17},    {7, 67, 255},  {13, 255, 67},
                               {13, 577, 67}, {5, 67, 577}, {64, 255, 255}, {129, 35, 1100}};
  for (WeightType type : kWeightTypes) {
    for (WeightLayout layout : kLayouts) {
      for (const auto& shape : shapes) {
        const Problem p = random_problem(type, layout, shape[0], shape[1], shape[2], shape[1] % 2 == 1);
        SCOPED_TRACE(shape_trace(p));
        std::vector<float> y(p.m * p.n, std::numeric_limits<float>::quiet_NaN());
        run_matmul(type, p.matmul_args(y.data()), 0, p.n);
        expect_near_reference(p, y);
      }
    }
  }
}

// The contract a thread pool relies on: a range writes its columns only,
// and the split does not change a bit.
TEST_P(CpuVectorTest, RangesWriteOnlyTheirColumnsAndSplitsChangeNoBit) {
  const float sentinel = -12345.0f;
  for (WeightType type : kWeightTypes) {
    for (WeightLayout layout : kLayouts) {
      const Problem p = random_problem(type, layout, 6, 255, 67, true);
      SCOPED_TRACE(shape_trace(p));
      std::vector<float> whole(p.m * p.n), split(p.m * p.n, sentinel);
      run_matmul(type, p.matmul_args(whole.data()), 0, p.n);
      run_matmul(type, p.matmul_args(split.data()), 37, 101);
      for (int64_t i = 0; i < p.m * p.n; ++i) {
        const int64_t col = i % p.n;
        if (col < 37 || col >= 101) {
          ASSERT_EQ(split[i], sentinel) << "column " << col << " written";
        }
      }
      for (const auto& [begin, end] : {std::pair<int64_t, int64_t>{0, 37}, {101, 102}, {102, 255}}) {
        run_matmul(type, p.matmul_args(split.data()), begin, end);
      }
      EXPECT_EQ(std::memcmp(whole.data(), split.data(), whole.size() * sizeof(float)), 0);

      std::vector<float> gemv_whole(p.n), gemv_split(p.n, sentinel);
      run_gemv(type, p.gemv_args(gemv_whole.data()), 0, p.n);
      run_gemv(type, p.gemv_args(gemv_split.data()), 3, 250);
      EXPECT_EQ(gemv_split[2], sentinel);
      EXPECT_EQ(gemv_split[250], sentinel);
      run_gemv(type, p.gemv_args(gemv_split.data()), 0, 3);
      run_gemv(type, p.gemv_args(gemv_split.data()), 250, 255);
      EXPECT_EQ(std::memcmp(gemv_whole.data(), gemv_split.data(), gemv_whole.size() * sizeof(float)), 0);
    }
  }
}

// Decode (gemv) and prefill (matmul) give a row the same bits, so a token's
// logits do not depend on whether it came in a prompt.
TEST_P(CpuVectorTest, MatmulRowsEqualGemvBitForBit) {
  for (WeightType type : kWeightTypes) {
    for (WeightLayout layout : kLayouts) {
      const Problem p = random_problem(type, layout, 9, 67, 255, true);
      SCOPED_TRACE(shape_trace(p));
      std::vector<float> y(p.m * p.n);
      run_matmul(type, p.matmul_args(y.data()), 0, p.n);
      for (int64_t row = 0; row < p.m; ++row) {
        std::vector<float> y_row(p.n);
        run_gemv(type, GemvArgs{p.x.data() + row * p.k, p.w.data(), p.bias.data(), y_row.data(), p.n, p.k, layout}, 0,
                 p.n);
        EXPECT_EQ(std::memcmp(y_row.data(), y.data() + row * p.n, p.n * sizeof(float)), 0) << "row " << row;
      }
    }
  }
}

// ---- Row kernels: attention and rmsnorm -------------------------------------

void run_attention_row(WeightType type, const AttentionRowArgs& args) {
  switch (type) {
    case WeightType::f32: return attend_row_f32(args);
    case WeightType::f16: return attend_row_f16(args);
    case WeightType::bf16: return attend_row_bf16(args);
  }
}

// attention of one query row over `keys` cache rows (`heads` kv heads a
// row, the query reading head 1 or 0), against a double loop over the exact
// cache values. Tolerance: each score is an f32 dot product of head_dim
// terms, within e_s = (head_dim + 16) * 2^-24 * scale * max_j sum_i |q_i k_ji|
// of exact (the bound above); a shift of the scores by at most e_s moves
// each softmax weight by at most 2 e_s relative, exp adds 1 ulp and the f32
// sums of weights and of weighted values (keys terms) (keys + 8) * 2^-24
// each, so every output is within max|v| * (4 e_s + (keys + 16) * 2^-23).
TEST_P(CpuVectorTest, AttentionRowMatchesDoubleLoop) {
  // (keys, head_dim): within one block of 64 keys, exactly one, across two
  // and several; head dims below a vector, odd, and several vectors.
  const int64_t shapes[][2] = {{1, 1}, {3, 5}, {64, 32}, {65, 17}, {200, 64}, {300, 67}, {129, 80}};
  for (WeightType type : kWeightTypes) {
    for (const auto& [keys, dim] : shapes) {
      SCOPED_TRACE(std::string(type_name(type)) + " keys=" + std::to_string(keys) + " head_dim=" + std::to_string(dim));
      const int64_t heads = 2, stride = heads * dim;
      std::mt19937 rng(static_cast<uint32_t>(keys * 131 + dim));
      const std::vector<float> q = random_floats(dim, rng);
      const Weights k = random_weights(type, keys * stride, rng), v = random_weights(type, keys * stride, rng);
      const int64_t head = keys % 2;  // which kv head of each row
      const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
      std::vector<float> out(dim + 1, std::numeric_limits<float>::quiet_NaN());
      const size_t offset = static_cast<size_t>(head * dim) * (type == WeightType::f32 ? 4 : 2);
      run_attention_row(type, {.q = q.data(), .k = static_cast<const uint8_t*>(k.data()) + offset,
                               .v = static_cast<const uint8_t*>(v.data()) + offset, .row_stride = stride,
                               .keys = keys, .head_dim = dim, .scale = scale, .out = out.data()});
      std::vector<double> scores(keys);
      double max_score = -INFINITY, score_magnitude = 0.0, max_value = 0.0;
      for (int64_t j = 0; j < keys; ++j) {
        double dot = 0.0, magnitude = 0.0;
        for (int64_t i = 0; i < dim; ++i) {
          dot += q[i] * k.values[j * stride + head * dim + i];
          magnitude += std::abs(q[i] * k.values[j * stride + head * dim + i]);
          max_value = std::max(max_value, std::abs(v.values[j * stride + head * dim + i]));
        }
        scores[j] = dot * scale;
        max_score = std::max(max_score, scores[j]);
        score_magnitude = std::max(score_magnitude, magnitude * scale);
      }
      const double score_error = (dim + 16) * std::ldexp(score_magnitude, -24);
      const double tolerance = max_value * (4 * score_error + (keys + 16) * std::ldexp(1.0, -23));
      double total = 0.0;
      std::vector<double> want(dim, 0.0);
      for (int64_t j = 0; j < keys; ++j) {
        const double w = std::exp(scores[j] - max_score);
        total += w;
        for (int64_t i = 0; i < dim; ++i) want[i] += w * v.values[j * stride + head * dim + i];
      }
      for (int64_t i = 0; i < dim; ++i) {
        EXPECT_NEAR(out[i], want[i] / total, tolerance) << "element " << i;
      }
      EXPECT_TRUE(std::isnan(out[dim])) << "wrote past head_dim";
    }
  }
}

void run_rmsnorm_row(WeightType type, const RmsnormRowArgs& args) {
  switch (type) {
    case WeightType::f32: return rmsnorm_row_f32(args);
    case WeightType::f16: return rmsnorm_row_f16(args);
    case WeightType::bf16: return rmsnorm_row_bf16(args);
  }
}

// rmsnorm of one row, alone and after a residual add, against a double
// loop. Tolerance: the f32 sum of d squares is within (d + 16) * 2^-24 of
// exact relative (the bound above, all terms positive), which the square
// root halves; the division, eps's add, the root and the two products each
// round once: every output within |x g| / rms * ((d + 16) / 2 + 6) * 2^-24.
// The sum written with a residual is x + r rounded to f32: exact.
TEST_P(CpuVectorTest, RmsnormRowMatchesDoubleLoop) {
  for (WeightType type : kWeightTypes) {
    for (int64_t d : kSizes) {
      for (bool residual : {false, true}) {
        SCOPED_TRACE(std::string(type_name(type)) + " d=" + std::to_string(d) + (residual ? " +residual" : ""));
        std::mt19937 rng(static_cast<uint32_t>(d * 7 + residual));
        const std::vector<float> x = random_floats(d, rng), r = random_floats(d, rng);
        const Weights g = random_weights(type, d, rng);
        const float eps = 1e-5f;
        std::vector<float> sum(d + 1, std::numeric_limits<float>::quiet_NaN()), y(d + 1, sum[0]);
        run_rmsnorm_row(type, {.x = x.data(), .residual = residual ? r.data() : nullptr, .g = g.data(), .d = d,
                               .eps = eps, .sum = sum.data(), .y = y.data()});
        std::vector<float> row = x;
        if (residual) {
          for (int64_t i = 0; i < d; ++i) row[i] = x[i] + r[i];
          EXPECT_EQ(std::memcmp(sum.data(), row.data(), d * sizeof(float)), 0) << "the sums";
        }
        double squares = 0.0;
        for (int64_t i = 0; i < d; ++i) squares += static_cast<double>(row[i]) * row[i];
        const double inverse_rms = 1.0 / std::sqrt(squares / static_cast<double>(d) + eps);
        for (int64_t i = 0; i < d; ++i) {
          const double want = row[i] * inverse_rms * g.values[i];
          EXPECT_NEAR(y[i], want, std::abs(want) * ((d + 16) / 2.0 + 6) * std::ldexp(1.0, -24)) << "element " << i;
        }
        EXPECT_TRUE(std::isnan(y[d])) << "wrote past d";
      }
    }
  }
}

// silu(g) * u against the double formula. Tolerance: exp is within 1 ulp,
// and the add, divide and multiply round once each, so every output is
// within 6 * 2^-24 of exact relative, plus 1e-30 absolute where exp(-g)
// overflows f32 (g below about -88) and the kernel's -0 stands for a value
// below 1e-36.
TEST_P(CpuVectorTest, SiluProductMatchesDoubleFormula) {
  std::mt19937 rng(7);
  std::vector<float> gate = random_floats(1001, rng), up = random_floats(1001, rng);
  for (float& g : gate) g *= 20.0f;
  const float extremes[] = {0.0f, -0.0f, 100.0f, -100.0f, 88.0f, -88.0f, 1e-30f, -1e-30f};
  std::copy(std::begin(extremes), std::end(extremes), gate.begin());
  for (const int64_t count : {int64_t{1}, int64_t{15}, int64_t{1001}}) {
    std::vector<float> out(count + 1, std::numeric_limits<float>::quiet_NaN());
    silu_product(gate.data(), up.data(), out.data(), count);
    for (int64_t i = 0; i < count; ++i) {
      const double want = gate[i] / (1.0 + std::exp(-static_cast<double>(gate[i]))) * up[i];
      EXPECT_NEAR(out[i], want, std::abs(want) * 6 * std::ldexp(1.0, -24) + 1e-30) << "g = " << gate[i];
    }
    EXPECT_TRUE(std::isnan(out[count])) << "wrote past count";
  }
  // In place over `up`, as fused_vector.cc calls it.
  std::vector<float> in_place = up;
  silu_product(gate.data(), in_place.data(), in_place.data(), 1001);
  std::vector<float> apart(1001);
  silu_product(gate.data(), up.data(), apart.data(), 1001);
  EXPECT_EQ(std::memcmp(in_place.data(), apart.data(), apart.size() * sizeof(float)), 0);
}

std::string target_test_name(const ::testing::TestParamInfo<int64_t>& info) { return target_name(info.param); }

INSTANTIATE_TEST_SUITE_P(Targets, CpuVectorTest, ::testing::ValuesIn(runnable_targets()), target_test_name);

TEST(CpuVectorTargetsTest, ForcingZeroRestoresTheBestTarget) {
  const std::vector<int64_t> targets = runnable_targets();
  ASSERT_FALSE(targets.empty());
  force_target(targets.back());
  EXPECT_STREQ(active_target(), target_name(targets.back()));
  force_target(0);
  EXPECT_STREQ(active_target(), target_name(targets.front()));
}

}  // namespace
}  // namespace kiln::kernels::cpu::vector
