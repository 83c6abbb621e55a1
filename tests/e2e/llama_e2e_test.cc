// kiln against an independent NumPy Llama forward (llama_reference.py) on
// small random models with odd sizes, written in both formats
// (make_llama_models.py): the prefill's logits, every decode step's logits
// and the greedy tokens must agree, and the GGUF (q/k rows permuted by the
// converter, rotated in interleaved pairs) must give what the HF folder
// gives (rotate_half on the original rows).

#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/generator.h"
#include "runtime/session.h"
#include "tests/e2e/llama_model_fixture.h"

namespace kiln::runtime {
namespace {

using ::kiln::testing::argmax;
using ::kiln::testing::cpu_session;
using ::kiln::testing::make_reference_model;
using ::kiln::testing::max_abs_diff;
using ::kiln::testing::ModelDir;
using ::kiln::testing::ReferenceModel;
using ::testing::HasSubstr;

// kiln computes in f32 against a float64 reference on the same
// dtype-rounded weights; logits are O(1)-O(50). The worst difference seen
// on the cpu plugin is 4e-6; the smallest greedy margin is 3.8e-3; rotating
// the wrong pairs (interleaved on HF rows) is off by 0.25-2.
constexpr double kLogitTolerance = 2e-4;
// The prompt (11 tokens) runs as prefill chunks of 4, 4 and 3.
constexpr int64_t kChunk = 4;
constexpr int64_t kContext = 32;

std::unique_ptr<Session> open_session(const std::string& path, int64_t chunk = kChunk) {
  absl::StatusOr<std::unique_ptr<Session>> session = Session::open(path, cpu_session(kContext, chunk));
  if (!session.ok()) {
    ADD_FAILURE() << path << ": " << session.status();
    return nullptr;
  }
  return *std::move(session);
}

// variant × format
class LlamaReferenceTest : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {
 protected:
  void SetUp() override {
    model_ = make_reference_model(dir_.path(), std::get<0>(GetParam()));
    ASSERT_TRUE(std::string_view(std::get<1>(GetParam())) == "hf" || model_.has_gguf) << "this variant has no GGUF form";
  }
  std::string model_path() const { return model_.path(std::get<1>(GetParam())); }

  ModelDir dir_;
  ReferenceModel model_;
};

TEST_P(LlamaReferenceTest, PrefillAndEveryDecodeStepMatchTheReference) {
  std::unique_ptr<Session> session = open_session(model_path());
  ASSERT_NE(session, nullptr);
  absl::StatusOr<std::vector<float>> prefill = session->feed(model_.prompt, LogitRows::all);
  ASSERT_TRUE(prefill.ok()) << prefill.status();
  const int64_t prompt_rows = static_cast<int64_t>(model_.prompt.size());
  ASSERT_EQ(static_cast<int64_t>(prefill->size()), prompt_rows * model_.vocab);
  for (int64_t r = 0; r < prompt_rows; ++r) {
    const std::span<const float> row(prefill->data() + r * model_.vocab, model_.vocab);
    EXPECT_LE(max_abs_diff(row, model_.row(r)), kLogitTolerance) << "prompt row " << r;
  }
  std::vector<float> last(prefill->end() - model_.vocab, prefill->end());
  const uint64_t allocations_before_decode = session->decode_counters().allocations;
  for (size_t step = 0; step < model_.greedy.size(); ++step) {
    const int32_t token = argmax(last);
    ASSERT_EQ(token, model_.greedy[step]) << "greedy token " << step;
    if (step + 1 == model_.greedy.size()) break;
    absl::StatusOr<std::vector<float>> decoded = session->feed(std::vector<int32_t>{token});
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    last = *decoded;
    EXPECT_LE(max_abs_diff(last, model_.row(prompt_rows + step)), kLogitTolerance) << "decode step " << step;
  }
  // The decode Program served each fed-back token: one run and one
  // readback per token, nothing allocated.
  const kiln_counters decode = session->decode_counters();
  EXPECT_EQ(decode.runs, model_.greedy.size() - 1);
  EXPECT_EQ(decode.readbacks, model_.greedy.size() - 1);
  EXPECT_EQ(decode.allocations, allocations_before_decode);
}

TEST_P(LlamaReferenceTest, GreedyGenerationGivesTheReferenceTokens) {
  std::unique_ptr<Session> session = open_session(model_path());
  ASSERT_NE(session, nullptr);
  GenerateOptions options;
  options.max_new_tokens = static_cast<int64_t>(model_.greedy.size());
  options.sampling.temperature = 0;
  options.stop_at_eos = false;
  std::vector<float> rows;
  GenerateCallbacks callbacks;
  callbacks.on_logits = [&rows](std::span<const float> logits, int64_t) {
    rows.insert(rows.end(), logits.begin(), logits.end());
  };
  absl::StatusOr<GenerationResult> result = generate(*session, model_.prompt, options, callbacks);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->tokens, model_.greedy);
  EXPECT_EQ(result->stop_reason, StopReason::length);
  // One row per token fed: the prompt, then each generated token but the last.
  ASSERT_EQ(static_cast<int64_t>(rows.size()), model_.rows * model_.vocab);
  EXPECT_LE(max_abs_diff(rows, model_.logits), kLogitTolerance);
}

// Every variant in both formats, but Mistral only as an HF folder: llama.cpp
// converts Mistral checkpoints to GGUF "llama", which llama_f32 covers.
INSTANTIATE_TEST_SUITE_P(
    Variants, LlamaReferenceTest,
    ::testing::Values(std::tuple("llama_f32", "hf"), std::tuple("llama_f32", "gguf"),
                      std::tuple("llama_f16_sharded", "hf"), std::tuple("llama_f16_sharded", "gguf"),
                      std::tuple("tied_bf16", "hf"), std::tuple("tied_bf16", "gguf"),
                      std::tuple("qwen2_bias", "hf"), std::tuple("qwen2_bias", "gguf"),
                      std::tuple("llama3_rope", "hf"), std::tuple("llama3_rope", "gguf"),
                      std::tuple("mqa_head_dim", "hf"), std::tuple("mqa_head_dim", "gguf"),
                      std::tuple("mistral", "hf")),
    [](const auto& info) { return std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param); });

// The converter's q/k permutation plus interleaved rotation equals
// rotate_half on the original rows: both files of one model give the same
// logits, to f32 rounding.
class GgufHfTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufHfTest, BothFormatsGiveTheSameLogits) {
  ModelDir dir;
  const ReferenceModel model = make_reference_model(dir.path(), GetParam());
  std::vector<int32_t> sequence = model.prompt;
  sequence.insert(sequence.end(), model.greedy.begin(), model.greedy.end() - 1);
  std::vector<std::vector<float>> logits;
  for (const std::string format : {"hf", "gguf"}) {
    std::unique_ptr<Session> session = open_session(model.path(format));
    ASSERT_NE(session, nullptr);
    absl::StatusOr<std::vector<float>> all = session->feed(sequence, LogitRows::all);
    ASSERT_TRUE(all.ok()) << all.status();
    logits.push_back(*all);
  }
  EXPECT_LE(max_abs_diff(logits[0], logits[1]), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Variants, GgufHfTest,
                         ::testing::Values("llama_f32", "llama_f16_sharded", "tied_bf16", "qwen2_bias",
                                           "llama3_rope", "mqa_head_dim"));

// ---- KV cache -------------------------------------------------------------------

class KvCacheTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { model_ = make_reference_model(dir_.path(), "llama_f32"); }
  ModelDir dir_;
  ReferenceModel model_;
};

TEST_P(KvCacheTest, PrefillingNTokensEqualsFeedingThemOneAtATime) {
  std::unique_ptr<Session> at_once = open_session(model_.path(GetParam()), /*chunk=*/16);
  std::unique_ptr<Session> one_by_one = open_session(model_.path(GetParam()), /*chunk=*/16);
  ASSERT_NE(at_once, nullptr);
  ASSERT_NE(one_by_one, nullptr);
  absl::StatusOr<std::vector<float>> all = at_once->feed(model_.prompt, LogitRows::all);
  ASSERT_TRUE(all.ok()) << all.status();
  for (size_t t = 0; t < model_.prompt.size(); ++t) {
    absl::StatusOr<std::vector<float>> row = one_by_one->feed(std::vector<int32_t>{model_.prompt[t]});
    ASSERT_TRUE(row.ok()) << row.status();
    EXPECT_LE(max_abs_diff(*row, std::span<const float>(all->data() + t * model_.vocab, model_.vocab)), 1e-5)
        << "token " << t;
  }
  EXPECT_EQ(one_by_one->position(), static_cast<int64_t>(model_.prompt.size()));
  EXPECT_EQ(at_once->prefill_counters().runs, 1u);  // 11 tokens in one chunk of 16
}

TEST_P(KvCacheTest, ChunkSizeDoesNotChangeTheLogits) {
  std::vector<std::vector<float>> results;
  for (int64_t chunk : {1, 3, 4, 16}) {
    std::unique_ptr<Session> session = open_session(model_.path(GetParam()), chunk);
    ASSERT_NE(session, nullptr);
    absl::StatusOr<std::vector<float>> all = session->feed(model_.prompt, LogitRows::all);
    ASSERT_TRUE(all.ok()) << all.status();
    results.push_back(*all);
  }
  for (size_t i = 1; i < results.size(); ++i) EXPECT_LE(max_abs_diff(results[0], results[i]), 1e-5);
}

TEST_P(KvCacheTest, ResetStartsAFreshContext) {
  std::unique_ptr<Session> session = open_session(model_.path(GetParam()));
  ASSERT_NE(session, nullptr);
  absl::StatusOr<std::vector<float>> first = session->feed(model_.prompt);
  ASSERT_TRUE(first.ok());
  session->reset();
  absl::StatusOr<std::vector<float>> again = session->feed(model_.prompt);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*first, *again);
}

INSTANTIATE_TEST_SUITE_P(Formats, KvCacheTest, ::testing::Values("hf", "gguf"));

// ---- errors ---------------------------------------------------------------------

class LlamaErrorTest : public ::testing::Test {
 protected:
  void SetUp() override { model_ = make_reference_model(dir_.path(), "llama_f32"); }
  ModelDir dir_;
  ReferenceModel model_;
};

TEST_F(LlamaErrorTest, ContextOverflowIsAClearErrorBeforeAnythingRuns) {
  std::unique_ptr<Session> session = open_session(model_.path("gguf"));
  ASSERT_NE(session, nullptr);
  const std::vector<int32_t> prompt(30, 5);
  GenerateOptions options;
  options.max_new_tokens = 10;
  absl::StatusOr<GenerationResult> result = generate(*session, prompt, options);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("prompt of 30 tokens + 10 new exceeds the session's context of 32 (the model allows 64"));
  EXPECT_EQ(session->prefill_counters().runs, 0u);

  absl::StatusOr<std::unique_ptr<Session>> full = Session::open(model_.path("hf"), cpu_session(0, kChunk));
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ((*full)->context(), 64);
  result = generate(**full, std::vector<int32_t>(60, 5), options);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("prompt of 60 tokens + 10 new exceeds the model's context of 64"));
}

TEST_F(LlamaErrorTest, FeedRefusesTokensPastTheContextOrOutsideTheVocabulary) {
  std::unique_ptr<Session> session = open_session(model_.path("hf"));
  ASSERT_NE(session, nullptr);
  EXPECT_THAT(std::string(session->feed(std::vector<int32_t>(33, 5)).status().message()),
              HasSubstr("33 tokens at position 0 exceed the context of 32 tokens"));
  EXPECT_THAT(std::string(session->feed(std::vector<int32_t>{5, 300}).status().message()),
              HasSubstr("token id 300 is outside the vocabulary [0, 300)"));
  EXPECT_EQ(session->position(), 0);
}

TEST_F(LlamaErrorTest, AContextAboveTheModelsIsRefused) {
  absl::StatusOr<std::unique_ptr<Session>> session = Session::open(model_.path("gguf"), cpu_session(65, kChunk));
  EXPECT_THAT(std::string(session.status().message()), HasSubstr("--ctx 65 must be in [1, 64]"));
}

}  // namespace
}  // namespace kiln::runtime
