// The cpu kernels called directly: the behaviour NumPy comparisons cannot
// pin (ties, saturation, bf16, threading) and the errors a kernel gives a
// malformed Program, each naming its node.

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "backends/support/kernel_table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/cpu/kernel.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/thread_pool.h"

namespace kiln::kernels::cpu {
namespace {

using program::Constant;
using program::DType;

template <typename T>
TensorView view(std::vector<T>& values, DType dtype, std::vector<int64_t> shape) {
  return TensorView{reinterpret_cast<uint8_t*>(values.data()), dtype, std::move(shape)};
}

Constant integer(std::string name, int64_t value) {
  Constant c;
  c.name = std::move(name);
  c.type = Constant::Type::integer;
  c.integer = value;
  return c;
}

Constant real(std::string name, double value) {
  Constant c = integer(std::move(name), 0);
  c.type = Constant::Type::real;
  c.real = value;
  return c;
}

Constant boolean(std::string name, bool value) {
  Constant c = integer(std::move(name), value ? 1 : 0);
  c.type = Constant::Type::boolean;
  return c;
}

// An enumeration: its index among the schema's names, and the name.
Constant enumeration(std::string name, int64_t index, std::string symbol) {
  Constant c = integer(std::move(name), index);
  c.symbol = std::move(symbol);
  return c;
}

const KernelFn* reference_kernel(std::string_view op) {
  const auto* row = backends::support::find_kernel(kernel_table(), op, "reference");
  return row == nullptr ? nullptr : &row->kernel;
}

// What a kernel reads besides its operands: the dispatch's constants, and
// the step: `step` holds slot values, `step_params` names the ones read.
struct KernelInputs {
  std::vector<Constant> constants = {};
  std::vector<program::StepParam> step_params = {};
  program::StepValues step = {};
};

// Runs the reference kernel of `op` for node %y on the given views.
absl::Status run(const std::string& op, KernelInputs given, std::vector<TensorView> inputs,
                 std::vector<TensorView> outputs) {
  program::Dispatch dispatch;
  dispatch.kernel = op;
  dispatch.variant = "reference";
  dispatch.node = "y";
  dispatch.constants = std::move(given.constants);
  dispatch.step_params = std::move(given.step_params);
  const KernelFn* kernel = reference_kernel(op);
  if (kernel == nullptr) return absl::NotFoundError(op);
  return (*kernel)(KernelArgs{dispatch, inputs, outputs, given.step});
}

TEST(CpuKernelsTest, TheTableHasEveryPrimitiveOpButViews) {
  for (const char* op : {"embedding", "matmul", "add", "mul", "scale", "silu", "gelu", "relu", "rmsnorm", "layernorm",
                         "softmax", "rope", "attention", "kv_write", "transpose", "concat", "slice", "argmax", "cast",
                         "top_k"}) {
    EXPECT_NE(reference_kernel(op), nullptr) << op;
  }
  EXPECT_EQ(reference_kernel("reshape"), nullptr);
  EXPECT_EQ(reference_kernel("no_such_op"), nullptr);
  EXPECT_EQ(backends::support::find_kernel(kernel_table(), "matmul", "gemv_subgroup"), nullptr);
}

TEST(CpuKernelsTest, EveryRowIsOneOpAndVariant) {
  const auto table = kernel_table();
  for (size_t i = 0; i < table.size(); ++i) {
    EXPECT_NE(table[i].kernel, nullptr) << table[i].op;
    for (size_t j = 0; j < i; ++j) {
      EXPECT_FALSE(table[i].op == table[j].op && table[i].variant == table[j].variant)
          << table[i].op << "." << table[i].variant << " is registered twice";
    }
  }
}

TEST(CpuKernelsTest, ParamReadsTheStepSlotElseTheConstant) {
  program::Dispatch dispatch;
  dispatch.constants = {integer("rows", 7)};
  dispatch.step_params = {{"past", 1}};
  const program::StepValues step = {3, 11};
  const KernelArgs args{dispatch, {}, {}, step};
  EXPECT_EQ(args.param("past"), 11);
  EXPECT_EQ(args.param("rows"), 7);
}

TEST(CpuKernelsTest, ArgmaxTakesTheFirstOfEqualMaximaAndNaNLikeNumPy) {
  std::vector<float> x = {1, 5, 5, 2, /**/ -1, NAN, 7, NAN};
  std::vector<int32_t> y(2, -1);
  ASSERT_TRUE(run("argmax", {}, {view(x, DType::f32, {2, 4})}, {view(y, DType::i32, {2})}).ok());
  EXPECT_THAT(y, ::testing::ElementsAre(1, 1));
}

TEST(CpuKernelsTest, CastToI32TruncatesAndSaturates) {
  std::vector<float> x = {-7.9f, 7.9f, 3e9f, -3e9f, NAN};
  std::vector<int32_t> y(5);
  ASSERT_TRUE(run("cast", {}, {view(x, DType::f32, {5})},
                  {view(y, DType::i32, {5})}).ok());
  EXPECT_THAT(y, ::testing::ElementsAre(-7, 7, std::numeric_limits<int32_t>::max(),
                                        std::numeric_limits<int32_t>::min(), 0));
}

TEST(CpuKernelsTest, Bf16RoundsToNearestEven) {
  std::vector<float> x = {1.0f, 1.00390625f, 1.01171875f, -2.5f};  // 1 + 2^-8 ties to 1; 1 + 3 * 2^-8 to 1 + 2^-6
  std::vector<uint16_t> y(4);
  ASSERT_TRUE(run("cast", {}, {view(x, DType::f32, {4})},
                  {view(y, DType::bf16, {4})}).ok());
  const TensorView out = view(y, DType::bf16, {4});
  EXPECT_EQ(out.load(0), 1.0f);
  EXPECT_EQ(out.load(1), 1.0f);
  EXPECT_EQ(out.load(2), 1.015625f);
  EXPECT_EQ(out.load(3), -2.5f);
}

// The last row only; the penalty divides a positive logit of a recent id
// and multiplies a negative one; NaN ranks last; equal logits keep the
// lower id first; values are the raw logits, unpenalised.
TEST(CpuKernelsTest, TopKRanksThePenalisedLastRow) {
  std::vector<float> logits = {9, 9, 9, 9, 9, 9,  // row 0: ignored
                               4, NAN, -1, 3, 4, 2};
  std::vector<int32_t> recent = {0, -1, 8, 3, 3};  // 0 and 3 penalised once; -1 and 8 ignored
  std::vector<int32_t> ids(4, -7);
  std::vector<float> values(4);
  ASSERT_TRUE(run("top_k", {{integer("k", 4), real("penalty", 2.0)}},
                  {view(logits, DType::f32, {2, 6}), view(recent, DType::i32, {5})},
                  {view(ids, DType::i32, {4}), view(values, DType::f32, {4})})
                  .ok());
  // penalised: 2, NaN, -1, 1.5, 4, 2
  EXPECT_THAT(ids, ::testing::ElementsAre(4, 0, 5, 3));
  EXPECT_THAT(values, ::testing::ElementsAre(4, 4, 2, 3));

  std::vector<int32_t> all(6);
  std::vector<float> all_values(6);
  ASSERT_TRUE(run("top_k", {{integer("k", 6), real("penalty", 1.0)}}, {view(logits, DType::f32, {2, 6})},
                  {view(all, DType::i32, {6}), view(all_values, DType::f32, {6})})
                  .ok());
  EXPECT_THAT(all, ::testing::ElementsAre(0, 4, 3, 5, 2, 1));  // NaN last
  EXPECT_TRUE(std::isnan(all_values[5]));

  const absl::Status too_many = run("top_k", {{integer("k", 7), real("penalty", 1.0)}},
                                    {view(logits, DType::f32, {2, 6})},
                                    {view(all, DType::i32, {6}), view(all_values, DType::f32, {6})});
  EXPECT_EQ(too_many.message(), "%y = top_k: k must be in [1, vocab]");
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

// A pool's jobs after its workers have slept (past the spin, in the futex
// wait) and while they spin, at several sizes, each job's plain writes seen
// by the poster when it returns; a pool installed with ScopedPool is the one
// parallel_for uses; destroying a pool joins its sleeping workers.
TEST(CpuKernelsTest, ThreadPoolRunsEveryChunkWhetherItsWorkersSpinOrSleep) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    ASSERT_EQ(pool.threads(), threads);
    const ScopedPool use(&pool);
    EXPECT_EQ(parallel_threads(), threads);
    std::vector<int> seen(64, -1);
    for (int job = 0; job < 40; ++job) {
      if (job % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      const int64_t count = 2 + job % 60;
      parallel_for(count, kInlineCost, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) seen[i] = job;
      });
      for (int64_t i = 0; i < count; ++i) ASSERT_EQ(seen[i], job) << threads << " threads, item " << i;
    }
  }
}

struct ErrorCase {
  std::string name;
  std::string op;
  KernelInputs given;
  std::vector<std::vector<int64_t>> input_shapes;
  std::vector<int64_t> output_shape;
  std::string message;
};

// The step of a kernel reading P (slot 0) as its "past" parameter.
KernelInputs past(std::vector<Constant> constants, int64_t p) { return {std::move(constants), {{"past", 0}}, {p}}; }

const std::vector<Constant> kRope = {
    integer("rotary_dim", 3),          real("theta", 1e4),
    boolean("interleaved", false),     real("scaling_factor", 1.0),
    real("scaling_low_freq_factor", 1.0), real("scaling_high_freq_factor", 4.0),
    integer("scaling_original_context", 0)};

// Malformed dispatches, as a hand-written Program could hold; every input
// is f32 except embedding's ids.
const ErrorCase kErrors[] = {
    {"embedding_id_out_of_range", "embedding", {}, {{4, 3}, {2}}, {2, 3},
     "%y = embedding: token id 7 at index 1 is outside [0, 4)"},
    {"matmul_contraction_mismatch", "matmul", {{boolean("transpose_b", false)}}, {{2, 5}, {4, 3}}, {2, 3},
     "%y = matmul: operand 'b' [4, 3] has contraction dim 4, operand 'a' [2, 5] has 5"},
    {"matmul_wrong_output", "matmul", {{boolean("transpose_b", true)}}, {{2, 5}, {3, 5}}, {2, 4},
     "%y = matmul: output 0 has shape [2, 4], expected [2, 3]"},
    {"add_not_broadcastable", "add", {}, {{2, 3}, {2}}, {2, 3},
     "%y = add: operand 'b' [2] does not broadcast to operand 'a' [2, 3]"},
    {"gelu_unknown_approximation", "gelu", {{enumeration("approximate", 2, "fast")}}, {{3}}, {3},
     "%y = gelu: approximate must be \"none\" or \"tanh\", got \"fast\""},
    {"rope_odd_rotary_dim", "rope", past(kRope, 0), {{1, 1, 4}}, {1, 1, 4},
     "%y = rope: rotary_dim 3 must be even and <= head_dim 4"},
    {"attention_past_beyond_cache", "attention", past({boolean("causal", true), real("scale", 0.0)}, 4),
     {{2, 2, 4}, {5, 1, 4}, {5, 1, 4}}, {2, 2, 4}, "%y = attention: P + T = 4 + 2 exceeds the 5 rows of k and v"},
    {"attention_heads_not_divisible", "attention", past({boolean("causal", true), real("scale", 0.0)}, 0),
     {{2, 3, 4}, {5, 2, 4}, {5, 2, 4}}, {2, 3, 4},
     "%y = attention: k [5, 2, 4] does not match q [2, 3, 4]: head_dim must agree and kv heads divide query heads"},
    {"softmax_not_last_axis", "softmax", {{integer("axis", 0)}}, {{2, 3}}, {2, 3},
     "%y = softmax: softmax supports only the last axis, got axis 0"},
    {"slice_empty", "slice", {{integer("axis", 0), integer("start", -3), integer("end", 0)}}, {{2, 3}}, {3, 3},
     "%y = slice: slice [-3, 0) is empty or out of range for dim 2"},
    {"concat_mismatched_dims", "concat", {{integer("axis", 0)}}, {{2, 3}, {2, 4}}, {4, 3},
     "%y = concat: operand 1 [2, 4] differs from operand 0 [2, 3] outside axis 0"},
    {"transpose_not_a_permutation", "transpose", {{integer("perm0", 0), integer("perm1", 0)}}, {{2, 3}}, {2, 2},
     "%y = transpose: perm [0, 0] is not a permutation of 0..1"},
    {"rmsnorm_weight_length", "rmsnorm", {{real("eps", 1e-5)}}, {{2, 3}, {4}}, {2, 3},
     "%y = rmsnorm: operand 'w' has shape [4], expected [3]"},
    {"scale_arity", "scale", {{real("scale", 2.0)}}, {{2}, {2}}, {2}, "%y = scale: expected 1 inputs, got 2"},
    {"kv_write_result_not_the_cache", "kv_write", past({}, 3), {{4, 1, 2}, {2, 1, 2}}, {4, 1, 2},
     "%y = kv_write: the result must be the cache itself (same storage, dtype and shape)"},
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
    inputs.push_back(view(storage.back(), DType::f32, shape));
  }
  std::vector<int32_t> ids = {0, 7};
  if (c.op == "embedding") inputs[1] = view(ids, DType::i32, {2});
  std::vector<float> out(64);
  absl::Status status = run(c.op, c.given, inputs, {view(out, DType::f32, c.output_shape)});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), c.message);
}

INSTANTIATE_TEST_SUITE_P(Kernels, KernelErrorTest, ::testing::ValuesIn(kErrors),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace kiln::kernels::cpu
