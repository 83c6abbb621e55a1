// Sampling on the device against sampling on the host. The device path is
// what a session opened with sampling runs: the cpu plugin's top_k kernel
// over the logits (with the penalty and the recent ids recent_tokens
// gives), then the host's draw from the candidates it read back
// (Sampler::sample_candidates), or the one id when k is 1. For
// fixed logits, every sampling setting and several seeds it must give the
// token sequence Sampler::sample gives from the full logits.

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/support/kernel_table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/cpu/kernel.h"
#include "runtime/sampler.h"
#include "runtime/session.h"

namespace kiln::runtime {
namespace {

using ::testing::ElementsAre;

constexpr int kSteps = 24;

// kSteps rows of `vocab` logits: negative and positive, rounded to 0.25 so
// that ties are common, and a NaN in every fourth row (never the whole
// row). Fixed by the seed.
std::vector<std::vector<float>> fixed_logits(int64_t vocab, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal(-1.0, 3.0);
  std::vector<std::vector<float>> rows(kSteps);
  for (int t = 0; t < kSteps; ++t) {
    for (int64_t i = 0; i < vocab; ++i) rows[t].push_back(static_cast<float>(std::round(normal(engine) * 4) / 4));
    if (t % 4 == 3 && vocab > 1) rows[t][engine() % vocab] = NAN;
  }
  return rows;
}

kernels::cpu::KernelFn top_k_kernel() {
  const auto* row = backends::support::find_kernel(kernels::cpu::kernel_table(), "top_k", "reference");
  return row == nullptr ? nullptr : row->kernel;
}

program::Constant constant(std::string name, program::Constant::Type type, int64_t integer, double real) {
  program::Constant c;
  c.name = std::move(name);
  c.type = type;
  c.integer = integer;
  c.real = real;
  return c;
}

// The device half: the top_k op a session's Programs end in for
// `options`, run by the cpu kernel on `logits` with the recent ids of
// `history`.
Candidates device_candidates(const SamplingOptions& options, std::vector<float> logits,
                             std::span<const int32_t> history) {
  const int64_t vocab = static_cast<int64_t>(logits.size());
  const frontend::SamplingOp op = sampling_op(options, vocab);
  program::Dispatch dispatch;
  dispatch.kernel = "top_k";
  dispatch.variant = "reference";
  dispatch.node = "ids";
  dispatch.constants = {constant("k", program::Constant::Type::integer, op.k, 0),
                        constant("penalty", program::Constant::Type::real, 0, op.penalty)};
  std::vector<int32_t> recent = recent_tokens(history, options.repeat_last_n, op.window);
  std::vector<kernels::cpu::TensorView> inputs = {
      {reinterpret_cast<uint8_t*>(logits.data()), program::DType::f32, {1, vocab}}};
  if (op.window > 0) {
    inputs.push_back({reinterpret_cast<uint8_t*>(recent.data()), program::DType::i32, {op.window}});
  }
  Candidates candidates;
  candidates.ids.resize(op.k);
  candidates.logits.resize(op.k);
  const std::vector<kernels::cpu::TensorView> outputs = {
      {reinterpret_cast<uint8_t*>(candidates.ids.data()), program::DType::i32, {op.k}},
      {reinterpret_cast<uint8_t*>(candidates.logits.data()), program::DType::f32, {op.k}}};
  const program::StepValues step;
  const absl::Status status = top_k_kernel()(kernels::cpu::KernelArgs{dispatch, inputs, outputs, step});
  EXPECT_TRUE(status.ok()) << status;
  return candidates;
}

// Generates kSteps tokens after `prompt`, the i-th from logits row i, on
// the host (full logits) or through the device's candidates, as
// runtime/generator.cc's Picker does.
std::vector<int32_t> generate_tokens(const SamplingOptions& options, const std::vector<std::vector<float>>& rows,
                                     std::vector<int32_t> history, bool on_device) {
  Sampler sampler(options);
  std::vector<int32_t> tokens;
  for (const std::vector<float>& logits : rows) {
    int32_t id = 0;
    if (!on_device) {
      id = sampler.sample(logits, history);
    } else {
      const Candidates candidates = device_candidates(options, logits, history);
      id = candidates.ids.size() == 1 ? candidates.ids.front()
                                      : sampler.sample_candidates(candidates.ids, candidates.logits, history);
    }
    tokens.push_back(id);
    history.push_back(id);
  }
  return tokens;
}

std::string describe(const SamplingOptions& o, int64_t vocab) {
  return absl::StrCat("vocab ", vocab, ", temp ", o.temperature, ", top_k ", o.top_k, ", top_p ", o.top_p,
                      ", repeat_penalty ", o.repeat_penalty, ", repeat_last_n ", o.repeat_last_n, ", seed ", o.seed);
}

// Every setting the CLI offers, as products of the values that change
// which candidates survive: greedy, then temperature with each top_k,
// top_p, penalty and window.
std::vector<SamplingOptions> every_setting() {
  std::vector<SamplingOptions> settings;
  for (double penalty : {1.0, 0.8, 1.3}) {
    for (int64_t last_n : {0, 3, 64}) {
      for (uint64_t seed : {1u, 2u, 77u}) {
        settings.push_back({.temperature = 0, .top_k = 40, .top_p = 1.0, .repeat_penalty = penalty,
                            .repeat_last_n = last_n, .seed = seed});
        for (int64_t top_k : {1, 5, 40, 0}) {
          for (double top_p : {0.5, 0.9, 1.0}) {
            settings.push_back({.temperature = 0.8, .top_k = top_k, .top_p = top_p, .repeat_penalty = penalty,
                                .repeat_last_n = last_n, .seed = seed});
          }
        }
      }
    }
  }
  return settings;
}

TEST(DeviceSamplingTest, TheKernelIsInTheCpuTable) { ASSERT_NE(top_k_kernel(), nullptr); }

TEST(DeviceSamplingTest, DeviceCandidatesGiveTheHostSamplersTokens) {
  ASSERT_NE(top_k_kernel(), nullptr);
  const std::vector<SamplingOptions> settings = every_setting();
  int checked = 0;
  for (int64_t vocab : {1, 6, 50, 301}) {
    const std::vector<std::vector<float>> rows = fixed_logits(vocab, static_cast<uint64_t>(vocab));
    // A prompt that repeats ids, so the penalty and its window matter.
    std::vector<int32_t> prompt;
    for (int i = 0; i < 9; ++i) prompt.push_back(static_cast<int32_t>((i * 7) % std::min<int64_t>(vocab, 5)));
    for (const SamplingOptions& options : settings) {
      const std::vector<int32_t> host = generate_tokens(options, rows, prompt, /*on_device=*/false);
      const std::vector<int32_t> device = generate_tokens(options, rows, prompt, /*on_device=*/true);
      ASSERT_EQ(device, host) << describe(options, vocab);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4 * 27 * 13);  // vocabularies × (penalty, window, seed) × (greedy + 4 top_k × 3 top_p)
}

// The comparison can fail: a device that skipped the penalty (penalty 1 in
// its op) picks other tokens than the host, which applies it.
TEST(DeviceSamplingTest, ACandidateListWithoutThePenaltyDiffers) {
  const std::vector<float> logits = {3.0f, 2.9f, 1.0f, -2.0f};
  const std::vector<int32_t> history = {0};
  SamplingOptions options{.temperature = 0, .top_k = 40, .top_p = 1.0, .repeat_penalty = 1.3, .repeat_last_n = 64};
  Sampler host(options);
  EXPECT_EQ(host.sample(logits, history), 1);  // 3.0 / 1.3 < 2.9
  EXPECT_EQ(device_candidates(options, logits, history).ids.front(), 1);
  SamplingOptions unpenalised = options;
  unpenalised.repeat_penalty = 1.0;
  EXPECT_EQ(device_candidates(unpenalised, logits, history).ids.front(), 0);
}

TEST(DeviceSamplingTest, TheOpIsArgmaxForGreedyAndTopKOtherwise) {
  EXPECT_EQ(sampling_op({.temperature = 0, .top_k = 40}, 300).k, 1);
  EXPECT_EQ(sampling_op({.temperature = 0.8, .top_k = 40}, 300).k, 40);
  EXPECT_EQ(sampling_op({.temperature = 0.8, .top_k = 0}, 300).k, 300);
  EXPECT_EQ(sampling_op({.temperature = 0.8, .top_k = 400}, 300).k, 300);
  // Past kMaxDeviceTopK candidates there is no op: the host samples the logits.
  EXPECT_EQ(sampling_op({.temperature = 0.8, .top_k = 1024}, 128256).k, 1024);
  EXPECT_EQ(sampling_op({.temperature = 0.8, .top_k = 1025}, 128256), frontend::SamplingOp{});
  EXPECT_EQ(sampling_op({.temperature = 0.8, .top_k = 0, .repeat_penalty = 1.3}, 128256), frontend::SamplingOp{});
  EXPECT_EQ(sampling_op({.temperature = 0, .top_k = 0}, 128256).k, 1);
  const frontend::SamplingOp off = sampling_op({.temperature = 0.8, .repeat_penalty = 1.0, .repeat_last_n = 64}, 300);
  EXPECT_EQ(off.window, 0);
  const frontend::SamplingOp on = sampling_op({.temperature = 0.8, .repeat_penalty = 1.3, .repeat_last_n = 64}, 300);
  EXPECT_EQ(on.window, 64);
  EXPECT_EQ(on.penalty, 1.3);
  EXPECT_EQ(sampling_op({.temperature = 0.8, .repeat_penalty = 1.3, .repeat_last_n = 0}, 300).window, 1);
}

TEST(RecentTokensTest, DistinctIdsOfTheWindowNewestFirstPaddedWithMinusOne) {
  const std::vector<int32_t> history = {9, 1, 2, 3, 2, 5};
  EXPECT_THAT(recent_tokens(history, 3, 4), ElementsAre(5, 2, 3, -1));
  EXPECT_THAT(recent_tokens(history, 64, 4), ElementsAre(5, 2, 3, 1));  // cut at the window
  EXPECT_THAT(recent_tokens(history, 0, 2), ElementsAre(-1, -1));
  EXPECT_THAT(recent_tokens({}, 64, 3), ElementsAre(-1, -1, -1));
  EXPECT_TRUE(recent_tokens(history, 64, 0).empty());
}

}  // namespace
}  // namespace kiln::runtime
