// The decoder's other kernels on odd shapes, through the plugin's C ABI,
// against values computed here: embedding, the elementwise ops, softmax,
// argmax, slice, rope, kv_write and attention (GQA, over a KV cache in the
// state with P rows already written).

#include <cmath>

#include "tests/backends/vulkan_fixture.h"

namespace kiln::backends::vulkan::testing {
namespace {

using program::StepParam;

constexpr int64_t kCols = 333;  // past a workgroup, not a multiple of 4

// One unary or binary op over [T, 333] (b of add/mul: [333], broadcast).
class VulkanElementwiseTest : public VulkanTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(VulkanElementwiseTest, MatchesReference) {
  const std::string op = GetParam();
  const bool binary = op == "add" || op == "mul";
  constexpr int64_t kRows = 5;
  ProgramBuilder b;
  const int32_t t = b.slot("T", 9);
  TensorRef x = b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(kCols)});
  b.input("x", x);
  std::vector<TensorRef> inputs = {x};
  if (binary) {
    inputs.push_back(b.arena(DType::f32, {Dim::fixed(kCols)}));
    b.input("b", inputs.back());
  }
  const DType out_dtype = op == "cast" ? DType::f16 : DType::f32;
  TensorRef y = b.arena(out_dtype, {Dim::of_slot(t), Dim::fixed(kCols)});
  b.output("y", y);
  std::vector<Constant> constants;
  if (op == "gelu") constants.push_back(integer("approximate", 0));
  if (op == "scale") constants.push_back(real("scale", -1.75));
  b.dispatch(op, "reference", constants, inputs, {y});
  ASSERT_EQ(load(b.json()), KILN_OK) << error_.message;

  const std::vector<float> xs = random_values(kRows * kCols, 1, 4.0f), bs = random_values(kCols, 2);
  std::vector<std::vector<uint8_t>> in = {bytes_of(xs, DType::f32)};
  if (binary) in.push_back(bytes_of(bs, DType::f32));
  std::vector<std::vector<uint8_t>> out = {std::vector<uint8_t>(kRows * kCols * (op == "cast" ? 2 : 4))};
  ASSERT_EQ(step({kRows}, in, out), KILN_OK) << error_.message;
  std::vector<double> want(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const double v = xs[i], w = bs[i % kCols];
    if (op == "silu") want[i] = v / (1 + std::exp(-v));
    if (op == "gelu") want[i] = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    if (op == "relu") want[i] = v > 0 ? v : 0;
    if (op == "scale") want[i] = v * -1.75;
    if (op == "cast") want[i] = program::f16_to_f32(program::f32_to_f16(xs[i]));
    if (op == "add") want[i] = v + w;
    if (op == "mul") want[i] = v * w;
  }
  expect_near_all(as_floats(out[0], out_dtype), want, 1e-5, op);
}

INSTANTIATE_TEST_SUITE_P(Ops, VulkanElementwiseTest,
                         ::testing::Values("silu", "gelu", "relu", "scale", "cast", "add", "mul"));

TEST_F(VulkanTest, EmbeddingSoftmaxArgmaxSlice) {
  constexpr int64_t kVocab = 37, kRows = 6;
  ProgramBuilder b;
  const int32_t t = b.slot("T", 8);
  TensorRef ids = b.arena(DType::i32, {Dim::of_slot(t)});
  b.input("ids", ids);
  TensorRef table = b.weight("table", DType::f16, {kVocab, kCols});
  TensorRef h = b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(kCols)});
  TensorRef p = b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(kCols)});
  TensorRef last = b.arena(DType::f32, {Dim::fixed(1), Dim::fixed(kCols)});
  TensorRef best = b.arena(DType::i32, {Dim::of_slot(t)});
  b.dispatch("embedding", "reference", {}, {table, ids}, {h});
  b.dispatch("softmax", "reference", {integer("axis", -1)}, {h}, {p});
  b.dispatch("slice", "reference", {integer("axis", 0), integer("start", -1), integer("end", 0)}, {p}, {last});
  b.dispatch("argmax", "reference", {}, {h}, {best});
  b.output("p", p);
  b.output("last", last);
  b.output("best", best);
  const std::vector<float> rows = through_f16(random_values(kVocab * kCols, 4, 3.0f));
  ASSERT_EQ(load(b.json(), {bytes_of(rows, DType::f16)}), KILN_OK) << error_.message;

  const std::vector<int32_t> tokens = {3, 36, 0, 17, 17, 9};
  std::vector<uint8_t> token_bytes(tokens.size() * 4);
  std::memcpy(token_bytes.data(), tokens.data(), token_bytes.size());
  std::vector<std::vector<uint8_t>> out = {std::vector<uint8_t>(kRows * kCols * 4), std::vector<uint8_t>(kCols * 4),
                                           std::vector<uint8_t>(kRows * 4)};
  ASSERT_EQ(step({kRows}, {token_bytes}, out), KILN_OK) << error_.message;
  std::vector<double> softmax(kRows * kCols);
  std::vector<int32_t> argmax(kRows);
  for (int64_t r = 0; r < kRows; ++r) {
    const float* row = &rows[tokens[r] * kCols];
    double m = row[0], sum = 0;
    argmax[r] = 0;
    for (int64_t i = 0; i < kCols; ++i) {
      if (row[i] > m) { m = row[i]; argmax[r] = static_cast<int32_t>(i); }
    }
    for (int64_t i = 0; i < kCols; ++i) sum += std::exp(row[i] - m);
    for (int64_t i = 0; i < kCols; ++i) softmax[r * kCols + i] = std::exp(row[i] - m) / sum;
  }
  expect_near_all(as_floats(out[0]), softmax, 1e-5, "softmax");
  expect_near_all(as_floats(out[1]), std::vector<double>(softmax.end() - kCols, softmax.end()), 1e-5, "slice");
  std::vector<int32_t> got(kRows);
  std::memcpy(got.data(), out[2].data(), out[2].size());
  EXPECT_EQ(got, argmax);
}

// rope -> kv_write (k and v) -> attention, T new rows after P cached ones:
// Hq 6, Hkv 2 (GQA), Dh 10, rotary_dim 8 (two features pass through).
struct AttentionCase {
  bool interleaved;
  bool llama3;
  int64_t rows;
  int64_t past;
  std::string variant = "reference";  // or "split", "decode": the cache's rows across workgroups
  DType cache = DType::f16;
};

class VulkanAttentionTest : public VulkanTest, public ::testing::WithParamInterface<AttentionCase> {};

std::vector<double> rope_reference(const std::vector<float>& x, int64_t rows, int64_t heads, int64_t dim,
                                   int64_t rotary, int64_t past, bool interleaved, bool llama3) {
  std::vector<double> out(x.begin(), x.end());
  for (int64_t t = 0; t < rows; ++t) {
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t i = 0; i < rotary / 2; ++i) {
        double inv = 1.0 / std::pow(10000.0, 2.0 * i / rotary);
        if (llama3) {
          const double wavelen = 2 * M_PI / inv, context = 16, low = 1, high = 4, factor = 8;
          if (wavelen > context / low) {
            inv /= factor;
          } else if (wavelen >= context / high) {
            const double smooth = (context / wavelen - low) / (high - low);
            inv = (1 - smooth) * inv / factor + smooth * inv;
          }
        }
        const double angle = (past + t) * inv;
        const int64_t base = (t * heads + h) * dim;
        const int64_t a = base + (interleaved ? 2 * i : i), c = base + (interleaved ? 2 * i + 1 : i + rotary / 2);
        out[a] = x[a] * std::cos(angle) - x[c] * std::sin(angle);
        out[c] = x[c] * std::cos(angle) + x[a] * std::sin(angle);
      }
    }
  }
  return out;
}

TEST_P(VulkanAttentionTest, MatchesReference) {
  const AttentionCase c = GetParam();
  constexpr int64_t kHeads = 6, kKvHeads = 2, kDim = 10, kRotary = 8, kMax = 300;
  ProgramBuilder b;
  const int32_t t = b.slot("T", 16);
  b.slot("P", kMax - 16);
  TensorRef q = b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(kHeads), Dim::fixed(kDim)});
  TensorRef k = b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(kKvHeads), Dim::fixed(kDim)});
  TensorRef v = b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(kKvHeads), Dim::fixed(kDim)});
  TensorRef k_cache = b.state(c.cache, {Dim::fixed(kMax), Dim::fixed(kKvHeads), Dim::fixed(kDim)});
  TensorRef v_cache = b.state(c.cache, {Dim::fixed(kMax), Dim::fixed(kKvHeads), Dim::fixed(kDim)});
  TensorRef out = b.arena(DType::f32, {Dim::of_slot(t), Dim::fixed(kHeads), Dim::fixed(kDim)});
  b.input("q", q);
  b.input("k", k);
  b.input("v", v);
  b.state_binding("k_cache", k_cache);
  b.state_binding("v_cache", v_cache);
  b.output("out", out);
  std::vector<Constant> rope = {real("theta", 10000), integer("rotary_dim", kRotary), boolean("interleaved", c.interleaved),
                                real("scaling_factor", 8), real("scaling_low_freq_factor", 1),
                                real("scaling_high_freq_factor", 4), integer("scaling_original_context", c.llama3 ? 16 : 0)};
  b.dispatch("rope", "reference", rope, {q}, {q});
  b.dispatch("rope", "reference", rope, {k}, {k});
  b.dispatch("kv_write", "reference", {}, {k_cache, k}, {k_cache});
  b.dispatch("kv_write", "reference", {}, {v_cache, v}, {v_cache});
  b.dispatch("attention", c.variant, {boolean("causal", true), real("scale", 0)}, {q, k_cache, v_cache}, {out});
  ASSERT_EQ(load(b.json()), KILN_OK) << error_.message;

  // Every row up to P + T, written in steps: the first P rows 16 at a time,
  // then the T rows under test.
  const int64_t total = c.past + c.rows;
  const std::vector<float> qs = random_values(total * kHeads * kDim, 1), ks = random_values(total * kKvHeads * kDim, 2),
                           vs = random_values(total * kKvHeads * kDim, 3);
  std::vector<double> k_rot, q_rot;
  auto slice_rows = [](const std::vector<float>& x, int64_t from, int64_t to, int64_t width) {
    return std::vector<float>(x.begin() + from * width, x.begin() + to * width);
  };
  std::vector<std::vector<uint8_t>> result = {std::vector<uint8_t>(c.rows * kHeads * kDim * 4)};
  std::vector<std::pair<int64_t, int64_t>> steps;
  for (int64_t from = 0; from < c.past; from += 16) steps.push_back({from, std::min(from + 16, c.past)});
  steps.push_back({c.past, total});
  for (auto [from, to] : steps) {
    std::vector<std::vector<uint8_t>> in = {bytes_of(slice_rows(qs, from, to, kHeads * kDim), DType::f32),
                                            bytes_of(slice_rows(ks, from, to, kKvHeads * kDim), DType::f32),
                                            bytes_of(slice_rows(vs, from, to, kKvHeads * kDim), DType::f32)};
    std::vector<std::vector<uint8_t>> out = {std::vector<uint8_t>((to - from) * kHeads * kDim * 4)};
    ASSERT_EQ(step({to - from, from}, in, out), KILN_OK) << error_.message;
    result = out;
    std::vector<double> q_part = rope_reference(slice_rows(qs, from, to, kHeads * kDim), to - from, kHeads, kDim,
                                                kRotary, from, c.interleaved, c.llama3);
    std::vector<double> k_part = rope_reference(slice_rows(ks, from, to, kKvHeads * kDim), to - from, kKvHeads, kDim,
                                                kRotary, from, c.interleaved, c.llama3);
    q_rot.insert(q_rot.end(), q_part.begin(), q_part.end());
    k_rot.insert(k_rot.end(), k_part.begin(), k_part.end());
  }
  // The cache as it stores a value.
  auto f16 = [&](double x) {
    const float f = static_cast<float>(x);
    if (c.cache == DType::bf16) return double(program::bf16_to_f32(program::f32_to_bf16(f)));
    return c.cache == DType::f16 ? double(program::f16_to_f32(program::f32_to_f16(f))) : double(f);
  };
  std::vector<double> want(c.rows * kHeads * kDim);
  for (int64_t r = 0; r < c.rows; ++r) {
    const int64_t position = c.past + r;
    for (int64_t h = 0; h < kHeads; ++h) {
      const int64_t g = h / (kHeads / kKvHeads);
      std::vector<double> scores(position + 1);
      double m = -1e300, sum = 0;
      for (int64_t j = 0; j <= position; ++j) {
        double s = 0;
        for (int64_t d = 0; d < kDim; ++d) s += q_rot[(position * kHeads + h) * kDim + d] * f16(k_rot[(j * kKvHeads + g) * kDim + d]);
        scores[j] = s / std::sqrt(double(kDim));
        m = std::max(m, scores[j]);
      }
      for (double& s : scores) sum += (s = std::exp(s - m));
      for (int64_t d = 0; d < kDim; ++d) {
        double acc = 0;
        for (int64_t j = 0; j <= position; ++j) acc += scores[j] * f16(vs[(j * kKvHeads + g) * kDim + d]);
        want[(r * kHeads + h) * kDim + d] = acc / sum;
      }
    }
  }
  expect_near_all(as_floats(result[0]), want, 2e-4, "attention");
}

INSTANTIATE_TEST_SUITE_P(Cases, VulkanAttentionTest,
                         ::testing::Values(AttentionCase{false, false, 13, 0}, AttentionCase{true, false, 1, 270},
                                           AttentionCase{false, true, 1, 137}, AttentionCase{true, true, 7, 200},
                                           // split: one block, a partial last block, every block of the cache
                                           AttentionCase{false, false, 13, 0, "split"},
                                           AttentionCase{true, false, 1, 270, "split"},
                                           AttentionCase{false, true, 1, 137, "split"},
                                           AttentionCase{true, true, 7, 200, "split"},
                                           AttentionCase{false, false, 16, 284, "split"},
                                           // decode: within one block, two blocks (270 keys and more),
                                           // rows looped (T > 1), a bf16 and an f32 cache
                                           AttentionCase{false, false, 13, 0, "decode"},
                                           AttentionCase{true, false, 1, 270, "decode", DType::bf16},
                                           AttentionCase{false, true, 1, 137, "decode", DType::f32},
                                           AttentionCase{true, true, 7, 200, "decode", DType::bf16},
                                           AttentionCase{false, false, 16, 284, "decode"}),
                         [](const ::testing::TestParamInfo<AttentionCase>& info) {
                           return std::string(info.param.interleaved ? "interleaved" : "half") +
                                  (info.param.llama3 ? "_llama3" : "") + "_T" + std::to_string(info.param.rows) +
                                  "_P" + std::to_string(info.param.past) + "_" + info.param.variant +
                                  (info.param.cache == DType::f16
                                       ? ""
                                       : "_" + std::string(program::dtype_name(info.param.cache)));
                         });

}  // namespace
}  // namespace kiln::backends::vulkan::testing
