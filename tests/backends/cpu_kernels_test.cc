// The cpu kernels called directly: the behaviour NumPy comparisons cannot
// pin (ties, saturation, bf16, threading) and the errors a kernel gives a
// malformed Program, each naming its node.

#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/cpu/kernel.h"
#include "kernels/cpu/parallel_for.h"

namespace kiln::kernels::cpu {
namespace {

template <typename T>
TensorView view(std::vector<T>& values, ir::DType dtype, std::vector<int64_t> shape) {
  return TensorView{reinterpret_cast<uint8_t*>(values.data()), dtype, std::move(shape)};
}

// Runs kernel `op` of node %y with `constants` on the given views.
absl::Status run(const std::string& op, ir::Attributes constants, std::vector<TensorView> inputs,
                 std::vector<TensorView> outputs, ir::SymbolValues step = {}) {
  passes::Dispatch dispatch;
  dispatch.kernel = op;
  dispatch.node = "y";
  dispatch.constants = std::move(constants);
  const KernelEntry* entry = find_kernel(op);
  if (entry == nullptr) return absl::NotFoundError(op);
  return entry->run(KernelArgs{dispatch, inputs, outputs, step});
}

TEST(CpuKernelsTest, TheTableHasEveryPrimitiveOpButViews) {
  for (const char* op : {"embedding", "matmul", "add", "mul", "scale", "silu", "gelu", "relu", "rmsnorm", "layernorm",
                         "softmax", "rope", "attention", "kv_write", "transpose", "concat", "slice", "argmax", "cast"}) {
    EXPECT_NE(find_kernel(op), nullptr) << op;
  }
  EXPECT_EQ(find_kernel("reshape"), nullptr);
  EXPECT_EQ(find_kernel("no_such_op"), nullptr);
}

TEST(CpuKernelsTest, ArgmaxTakesTheFirstOfEqualMaximaAndNaNLikeNumPy) {
  std::vector<float> x = {1, 5, 5, 2, /**/ -1, NAN, 7, NAN};
  std::vector<int32_t> y(2, -1);
  ASSERT_TRUE(run("argmax", {}, {view(x, ir::DType::f32, {2, 4})}, {view(y, ir::DType::i32, {2})}).ok());
  EXPECT_THAT(y, ::testing::ElementsAre(1, 1));
}

TEST(CpuKernelsTest, CastToI32TruncatesAndSaturates) {
  std::vector<float> x = {-7.9f, 7.9f, 3e9f, -3e9f, NAN};
  std::vector<int32_t> y(5);
  ASSERT_TRUE(run("cast", {{"dtype", std::string("i32")}}, {view(x, ir::DType::f32, {5})},
                  {view(y, ir::DType::i32, {5})}).ok());
  EXPECT_THAT(y, ::testing::ElementsAre(-7, 7, std::numeric_limits<int32_t>::max(),
                                        std::numeric_limits<int32_t>::min(), 0));
}

TEST(CpuKernelsTest, Bf16RoundsToNearestEven) {
  std::vector<float> x = {1.0f, 1.00390625f, 1.01171875f, -2.5f};  // 1 + 2^-8 ties to 1; 1 + 3 * 2^-8 to 1 + 2^-6
  std::vector<uint16_t> y(4);
  ASSERT_TRUE(run("cast", {{"dtype", std::string("bf16")}}, {view(x, ir::DType::f32, {4})},
                  {view(y, ir::DType::bf16, {4})}).ok());
  const TensorView out = view(y, ir::DType::bf16, {4});
  EXPECT_EQ(out.load(0), 1.0f);
  EXPECT_EQ(out.load(1), 1.0f);
  EXPECT_EQ(out.load(2), 1.015625f);
  EXPECT_EQ(out.load(3), -2.5f);
}

TEST(CpuKernelsTest, ParallelForCoversEveryIndexOnce) {
  for (int64_t count : {1, 2, 7, 100, 12345}) {
    std::vector<std::atomic<int>> hits(count);
    parallel_for(count, kInlineCost, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) hits[i].fetch_add(1);
    });
    for (int64_t i = 0; i < count; ++i) ASSERT_EQ(hits[i].load(), 1) << "count " << count << ", index " << i;
  }
}

TEST(CpuKernelsTest, NestedParallelForRunsInline) {
  std::atomic<int64_t> total{0};
  parallel_for(8, kInlineCost, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      parallel_for(100, kInlineCost, [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
    }
  });
  EXPECT_EQ(total.load(), 800);
}

struct ErrorCase {
  std::string name;
  std::string op;
  ir::Attributes constants;
  ir::SymbolValues step;
  std::vector<std::vector<int64_t>> input_shapes;
  std::vector<int64_t> output_shape;
  std::string message;
};

// Malformed dispatches, as a hand-written Program could hold; every input
// is f32 except embedding's ids.
const ErrorCase kErrors[] = {
    {"embedding_id_out_of_range", "embedding", {}, {}, {{4, 3}, {2}}, {2, 3},
     "%y = embedding: token id 7 at index 1 is outside [0, 4)"},
    {"matmul_contraction_mismatch", "matmul", {{"transpose_b", false}}, {}, {{2, 5}, {4, 3}}, {2, 3},
     "%y = matmul: operand 'b' [4, 3] has contraction dim 4, operand 'a' [2, 5] has 5"},
    {"matmul_wrong_output", "matmul", {{"transpose_b", true}}, {}, {{2, 5}, {3, 5}}, {2, 4},
     "%y = matmul: output 0 has shape [2, 4], expected [2, 3]"},
    {"add_not_broadcastable", "add", {}, {}, {{2, 3}, {2}}, {2, 3},
     "%y = add: operand 'b' [2] does not broadcast to operand 'a' [2, 3]"},
    {"gelu_unknown_approximation", "gelu", {{"approximate", std::string("fast")}}, {}, {{3}}, {3},
     "%y = gelu: approximate must be \"none\" or \"tanh\", got \"fast\""},
    {"rope_odd_rotary_dim", "rope",
     {{"rotary_dim", int64_t{3}}, {"theta", 1e4}, {"interleaved", false}, {"scaling_factor", 1.0},
      {"scaling_low_freq_factor", 1.0}, {"scaling_high_freq_factor", 4.0}, {"scaling_original_context", int64_t{0}}},
     {}, {{1, 1, 4}}, {1, 1, 4}, "%y = rope: rotary_dim 3 must be even and <= head_dim 4"},
    {"attention_past_beyond_cache", "attention", {{"causal", true}, {"scale", 0.0}}, {{"P", 4}},
     {{2, 2, 4}, {5, 1, 4}, {5, 1, 4}}, {2, 2, 4}, "%y = attention: P + T = 4 + 2 exceeds the 5 rows of k and v"},
    {"attention_heads_not_divisible", "attention", {{"causal", true}, {"scale", 0.0}}, {},
     {{2, 3, 4}, {5, 2, 4}, {5, 2, 4}}, {2, 3, 4},
     "%y = attention: k [5, 2, 4] does not match q [2, 3, 4]: head_dim must agree and kv heads divide query heads"},
    {"softmax_not_last_axis", "softmax", {{"axis", int64_t{0}}}, {}, {{2, 3}}, {2, 3},
     "%y = softmax: softmax supports only the last axis, got axis 0"},
    {"slice_empty", "slice", {{"axis", int64_t{0}}, {"start", int64_t{-3}}, {"end", int64_t{0}}}, {}, {{2, 3}}, {3, 3},
     "%y = slice: slice [-3, 0) is empty or out of range for dim 2"},
    {"concat_mismatched_dims", "concat", {{"axis", int64_t{0}}}, {}, {{2, 3}, {2, 4}}, {4, 3},
     "%y = concat: operand 1 [2, 4] differs from operand 0 [2, 3] outside axis 0"},
    {"transpose_not_a_permutation", "transpose", {{"perm", std::vector<int64_t>{0, 0}}}, {}, {{2, 3}}, {2, 2},
     "%y = transpose: perm [0, 0] is not a permutation of 0..1"},
    {"rmsnorm_weight_length", "rmsnorm", {{"eps", 1e-5}}, {}, {{2, 3}, {4}}, {2, 3},
     "%y = rmsnorm: operand 'w' has shape [4], expected [3]"},
    {"scale_arity", "scale", {{"scale", 2.0}}, {}, {{2}, {2}}, {2}, "%y = scale: expected 1 inputs, got 2"},
};

void PrintTo(const ErrorCase& error_case, std::ostream* out) { *out << error_case.name; }

class KernelErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(KernelErrorTest, NamesTheNodeAndTheRuleBroken) {
  const ErrorCase& c = GetParam();
  std::vector<std::vector<float>> storage;
  storage.reserve(c.input_shapes.size());  // the views point into it
  std::vector<TensorView> inputs;
  for (const std::vector<int64_t>& shape : c.input_shapes) {
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    storage.emplace_back(count, 0.0f);
    inputs.push_back(view(storage.back(), ir::DType::f32, shape));
  }
  std::vector<int32_t> ids = {0, 7};
  if (c.op == "embedding") inputs[1] = view(ids, ir::DType::i32, {2});
  std::vector<float> out(64);
  absl::Status status = run(c.op, c.constants, inputs, {view(out, ir::DType::f32, c.output_shape)}, c.step);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), c.message);
}

INSTANTIATE_TEST_SUITE_P(Kernels, KernelErrorTest, ::testing::ValuesIn(kErrors),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace kiln::kernels::cpu
