// rope, kv_write and attention through the plugin's C ABI, against values
// computed here in double: steps with T > 1 and P > 0, grouped-query (4:1)
// and multi-query heads, an f16 cache, an odd head dim, Llama 3 scaling.

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "gtest/gtest.h"
#include "tests/backends/opencl_test_support.h"

namespace kiln::backends::opencl_testing {
namespace {

using program::DType;

void expect_close(const std::vector<float>& got, const std::vector<double>& want, const std::string& what,
                  double tolerance = 2e-5) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int failures = 0;
  for (size_t i = 0; i < got.size() && failures < 5; ++i) {
    if (!(std::abs(got[i] - want[i]) <= tolerance + tolerance * std::abs(want[i]))) {
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
      ++failures;
    }
  }
}

struct RopeCase {
  int64_t heads, head_dim, rotary_dim;
  bool interleaved;
  double theta;
  double factor = 1, low = 1, high = 4;
  int64_t original_context = 0;
};

std::vector<double> rope_reference(const std::vector<float>& x, const RopeCase& c, int64_t past) {
  std::vector<double> y(x.begin(), x.end());
  const int64_t half = c.rotary_dim / 2;
  const int64_t tokens = static_cast<int64_t>(x.size()) / (c.heads * c.head_dim);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t i = 0; i < half; ++i) {
      double inv = 1.0 / std::pow(c.theta, static_cast<double>(2 * i) / c.rotary_dim);
      if (c.original_context > 0) {
        const double wavelen = 2 * std::numbers::pi / inv, context = static_cast<double>(c.original_context);
        if (wavelen > context / c.low) {
          inv /= c.factor;
        } else if (wavelen >= context / c.high) {
          const double smooth = (context / wavelen - c.low) / (c.high - c.low);
          inv = (1 - smooth) * inv / c.factor + smooth * inv;
        }
      }
      const double angle = static_cast<double>(past + t) * inv;
      for (int64_t h = 0; h < c.heads; ++h) {
        const int64_t base = (t * c.heads + h) * c.head_dim;
        const int64_t a = base + (c.interleaved ? 2 * i : i), b = base + (c.interleaved ? 2 * i + 1 : i + half);
        y[a] = x[a] * std::cos(angle) - x[b] * std::sin(angle);
        y[b] = x[b] * std::cos(angle) + x[a] * std::sin(angle);
      }
    }
  }
  return y;
}

class OpenclAttentionTest : public ::testing::Test {
 protected:
  void SetUp() override { KILN_REQUIRE_OPENCL(); }
};

TEST_F(OpenclAttentionTest, RopeLayoutsAndLlama3Scaling) {
  const RopeCase cases[] = {{3, 16, 16, false, 10000.0},
                            {2, 14, 8, true, 500.0},
                            {2, 64, 64, false, 500000.0, 8.0, 1.0, 4.0, 8192}};
  ProgramBuilder b;
  b.slot("P", 4096);
  b.slot("T", 8);
  std::vector<std::vector<uint8_t>> inputs;
  std::vector<std::vector<float>> xs;
  for (size_t i = 0; i < 3; ++i) {
    const RopeCase& c = cases[i];
    const auto x = b.arena(DType::f32, {b.dim("T"), b.dim(c.heads), b.dim(c.head_dim)});
    const auto y = b.arena(DType::f32, {b.dim("T"), b.dim(c.heads), b.dim(c.head_dim)});
    b.input("x", x);
    b.output("y", y);
    b.dispatch("rope", "elementwise",
               {real_constant("theta", c.theta), int_constant("rotary_dim", c.rotary_dim),
                bool_constant("interleaved", c.interleaved), real_constant("scaling_factor", c.factor),
                real_constant("scaling_low_freq_factor", c.low), real_constant("scaling_high_freq_factor", c.high),
                int_constant("scaling_original_context", c.original_context)},
               {x}, {y}, {{"past", "P"}});
    xs.push_back(random_floats(3 * c.heads * c.head_dim, 60 + static_cast<uint32_t>(i)));
    inputs.push_back(encode(DType::f32, xs.back()));
  }
  OpenclRun run;
  absl::Status compiled = run.compile(b);
  ASSERT_TRUE(compiled.ok()) << compiled;
  auto out = run.run({3001, 3}, inputs);
  ASSERT_TRUE(out.ok()) << out.status();
  for (size_t i = 0; i < 3; ++i) {
    expect_close(decode(DType::f32, (*out)[i]), rope_reference(xs[i], cases[i], 3001), "rope case " + std::to_string(i));
  }
}

// o[t, h] = softmax(scale * q[t, h] . k[j, h / group]) v[j, h / group] over
// visible keys j.
std::vector<double> attention_reference(const std::vector<float>& q, const std::vector<float>& k,
                                        const std::vector<float>& v, int64_t tokens, int64_t hq, int64_t hkv,
                                        int64_t dh, int64_t past, bool causal, double scale) {
  std::vector<double> out;
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t h = 0; h < hq; ++h) {
      const int64_t kvh = h / (hq / hkv), visible = causal ? past + t + 1 : past + tokens;
      std::vector<double> scores;
      double top = -INFINITY;
      for (int64_t j = 0; j < visible; ++j) {
        double s = 0;
        for (int64_t d = 0; d < dh; ++d) s += static_cast<double>(q[(t * hq + h) * dh + d]) * k[(j * hkv + kvh) * dh + d];
        scores.push_back(s * scale);
        top = std::max(top, scores.back());
      }
      double total = 0;
      std::vector<double> acc(dh, 0.0);
      for (int64_t j = 0; j < visible; ++j) {
        const double w = std::exp(scores[j] - top);
        total += w;
        for (int64_t d = 0; d < dh; ++d) acc[d] += w * v[(j * hkv + kvh) * dh + d];
      }
      for (int64_t d = 0; d < dh; ++d) out.push_back(acc[d] / total);
    }
  }
  return out;
}

struct AttentionCase {
  int64_t hq, hkv, dh, rows;  // rows: the cache's
  DType cache;
  bool causal;
  double scale;  // 0: 1 / sqrt(dh)
  int64_t past, tokens;
  std::string variant = "workgroup";  // or "decode": a work-group per (kv head, 256 cache rows)
};

void run_attention_case(const AttentionCase& c) {
  ProgramBuilder b;
  b.slot("P", std::max<int64_t>(16, c.rows));
  b.slot("T", 4);
  b.derived_slot("P+T", {"P", "T"});
  const auto q = b.arena(DType::f32, {b.dim("T"), b.dim(c.hq), b.dim(c.dh)});
  const auto k = b.arena(DType::f32, {b.dim("T"), b.dim(c.hkv), b.dim(c.dh)});
  const auto v = b.arena(DType::f32, {b.dim("T"), b.dim(c.hkv), b.dim(c.dh)});
  const auto kc = b.state("kc", c.cache, {b.dim(c.rows), b.dim(c.hkv), b.dim(c.dh)});
  const auto vc = b.state("vc", c.cache, {b.dim(c.rows), b.dim(c.hkv), b.dim(c.dh)});
  const auto o = b.arena(DType::f32, {b.dim("T"), b.dim(c.hq), b.dim(c.dh)});
  b.input("q", q);
  b.input("k", k);
  b.input("v", v);
  b.output("o", o);
  // The constants and step parameters the op registry derives, beside the
  // attributes: the kernels must build with all of them defined.
  const std::vector<program::Constant> kv_write_constants = {int_constant("capacity", c.rows),
                                                             int_constant("width", c.hkv * c.dh)};
  const std::map<std::string, std::string> kv_write_steps = {{"past", "P"}, {"rows", "T"}};
  b.dispatch("kv_write", "elementwise", kv_write_constants, {kc, k}, {kc}, kv_write_steps);
  b.dispatch("kv_write", "elementwise", kv_write_constants, {vc, v}, {vc}, kv_write_steps);
  b.dispatch("attention", c.variant,
             {bool_constant("causal", c.causal), real_constant("scale", c.scale), int_constant("heads", c.hq),
              int_constant("kv_heads", c.hkv), int_constant("head_dim", c.dh), int_constant("capacity", c.rows)},
             {q, kc, vc}, {o}, {{"past", "P"}, {"kv_rows", "P+T"}, {"rows", "T"}});
  OpenclRun run;
  absl::Status compiled = run.compile(b);
  ASSERT_TRUE(compiled.ok()) << compiled;
  // Fill the cache's first rows with a prefill step of `past` tokens, then
  // run the step under test on top of them.
  const int64_t row = c.hkv * c.dh;
  const std::vector<float> ks = rounded(c.cache, random_floats((c.past + c.tokens) * row, 70, 2.0f));
  const std::vector<float> vs = rounded(c.cache, random_floats((c.past + c.tokens) * row, 71, 2.0f));
  const std::vector<float> qs = random_floats(c.tokens * c.hq * c.dh, 72, 2.0f);
  for (int64_t start = 0; start < c.past; start += 4) {
    const int64_t n = std::min<int64_t>(4, c.past - start);
    const std::vector<float> pq(n * c.hq * c.dh, 0.0f);
    const std::vector<float> pk(ks.begin() + start * row, ks.begin() + (start + n) * row);
    const std::vector<float> pv(vs.begin() + start * row, vs.begin() + (start + n) * row);
    auto prefill = run.run({start, n}, {encode(DType::f32, pq), encode(DType::f32, pk), encode(DType::f32, pv)});
    ASSERT_TRUE(prefill.ok()) << prefill.status();
  }
  const std::vector<float> sk(ks.begin() + c.past * row, ks.end()), sv(vs.begin() + c.past * row, vs.end());
  auto out = run.run({c.past, c.tokens}, {encode(DType::f32, qs), encode(DType::f32, sk), encode(DType::f32, sv)});
  ASSERT_TRUE(out.ok()) << out.status();
  const double scale = c.scale == 0 ? 1 / std::sqrt(static_cast<double>(c.dh)) : c.scale;
  expect_close(decode(DType::f32, (*out)[0]),
               attention_reference(qs, ks, vs, c.tokens, c.hq, c.hkv, c.dh, c.past, c.causal, scale), "attention");
  auto cache = run.read_state(0, program::dtype_bytes(c.cache, (c.past + c.tokens) * row));
  ASSERT_TRUE(cache.ok()) << cache.status();
  expect_close(decode(c.cache, *cache), std::vector<double>(ks.begin(), ks.end()), "k cache", 0);
}

TEST_F(OpenclAttentionTest, GroupedQueryCausalWithCache) { run_attention_case({8, 2, 16, 16, DType::f32, true, 0.0, 5, 3}); }

TEST_F(OpenclAttentionTest, MultiQueryF16CacheOddHeadDim) {
  run_attention_case({3, 1, 13, 11, DType::f16, true, 0.3, 6, 4});
}

TEST_F(OpenclAttentionTest, NotCausal) { run_attention_case({4, 2, 8, 16, DType::f32, false, 0.0, 2, 4}); }

// The decode kernel: one row over three blocks of a bf16 cache (the last
// block's partials combined), one block of an odd head dim, and rows looped
// (T > 1) across two blocks.
TEST_F(OpenclAttentionTest, DecodeBf16CacheThreeBlocks) {
  run_attention_case({8, 2, 64, 700, DType::bf16, true, 0.0, 699, 1, "decode"});
}

TEST_F(OpenclAttentionTest, DecodeF16CacheOneBlockOddHeadDim) {
  run_attention_case({4, 4, 13, 200, DType::f16, true, 0.3, 150, 1, "decode"});
}

TEST_F(OpenclAttentionTest, DecodeRowsLoopedBf16Cache) {
  run_attention_case({6, 2, 24, 300, DType::bf16, true, 0.0, 254, 4, "decode"});
}

}  // namespace
}  // namespace kiln::backends::opencl_testing
