// kiln against an independent NumPy Llama forward (llama_reference.py) on
// small random models with odd sizes, written in both formats
// (make_llama_models.py): the prefill's logits, every decode step's logits
// and the greedy tokens must agree, and the GGUF (q/k rows permuted by the
// converter, rotated in interleaved pairs) must give what the HF folder
// gives (rotate_half on the original rows). The reference, KV-cache and
// counter tests run on every backend: a GPU plugin that cannot load here
// skips with its reason, unless KILN_REQUIRE_BACKENDS names it.

#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "backends/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/generator.h"
#include "runtime/session.h"
#include "tests/e2e/llama_model_fixture.h"

namespace kiln::runtime {
namespace {

using ::kiln::testing::argmax;
using ::kiln::testing::backend_session;
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

const char* const kBackends[] = {"cpu", "vulkan", "opencl"};

// Skips the test when `backend` cannot load here and is not required.
void require_backend(const std::string& backend) {
  absl::StatusOr<const backends::PluginInfo*> plugin = backends::Registry::global().find(backend);
  if (plugin.ok()) return;
  if (backends::backend_required(backend)) {
    FAIL() << "KILN_REQUIRE_BACKENDS names " << backend << ": " << plugin.status();
  }
  GTEST_SKIP() << backend << " is unavailable here: " << plugin.status();
}

std::unique_ptr<Session> open_session_with(const std::string& path, const SessionOptions& options) {
  absl::StatusOr<std::unique_ptr<Session>> session = Session::open(path, options);
  if (!session.ok()) {
    ADD_FAILURE() << path << ": " << session.status();
    return nullptr;
  }
  return *std::move(session);
}

// A session whose prefill computes every row's logits.
std::unique_ptr<Session> open_session(const std::string& path, int64_t chunk = kChunk,
                                      const std::string& backend = "cpu") {
  return open_session_with(path, backend_session(backend, kContext, chunk));
}

// A session as `kiln run` opens it: the prefill's lm head on the last row
// only, and the Programs ending in the sampling op for `sampling`.
std::unique_ptr<Session> open_sampling_session(const std::string& path, const SamplingOptions& sampling,
                                               const std::string& backend = "cpu") {
  SessionOptions options = backend_session(backend, kContext, kChunk, /*all_logits=*/false);
  options.sampling = sampling;
  return open_session_with(path, options);
}

// (variant, format) × backend
using ModelForm = std::tuple<const char*, const char*>;
class LlamaReferenceTest : public ::testing::TestWithParam<std::tuple<ModelForm, const char*>> {
 protected:
  void SetUp() override {
    require_backend(backend());
    if (IsSkipped() || HasFatalFailure()) return;
    model_ = make_reference_model(dir_.path(), std::get<0>(form()));
    ASSERT_TRUE(std::string_view(std::get<1>(form())) == "hf" || model_.has_gguf) << "this variant has no GGUF form";
  }
  const ModelForm& form() const { return std::get<0>(GetParam()); }
  std::string backend() const { return std::get<1>(GetParam()); }
  std::string model_path() const { return model_.path(std::get<1>(form())); }
  std::unique_ptr<Session> session(int64_t chunk = kChunk) const { return open_session(model_path(), chunk, backend()); }

  ModelDir dir_;
  ReferenceModel model_;
};

TEST_P(LlamaReferenceTest, PrefillAndEveryDecodeStepMatchTheReference) {
  std::unique_ptr<Session> session = this->session();
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
  const kiln_counters before_decode = session->counters();
  for (size_t step = 0; step < model_.greedy.size(); ++step) {
    const int32_t token = argmax(last);
    ASSERT_EQ(token, model_.greedy[step]) << "greedy token " << step;
    if (step + 1 == model_.greedy.size()) break;
    absl::StatusOr<std::vector<float>> decoded = session->feed(std::vector<int32_t>{token});
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    last = *decoded;
    EXPECT_LE(max_abs_diff(last, model_.row(prompt_rows + step)), kLogitTolerance) << "decode step " << step;
  }
  // Each fed-back token was one step and one readback (its logits row),
  // nothing allocated.
  const kiln_counters decode = session->counters();
  const uint64_t tokens = model_.greedy.size() - 1;
  EXPECT_EQ(decode.steps - before_decode.steps, tokens);
  EXPECT_EQ(decode.readbacks - before_decode.readbacks, tokens);
  EXPECT_EQ(decode.bytes_from_device - before_decode.bytes_from_device, tokens * model_.vocab * sizeof(float));
  EXPECT_EQ(decode.allocations, before_decode.allocations);
}

// Without all_logits the prefill normalises and projects its last row
// only: the same last row, and every row is refused.
TEST_P(LlamaReferenceTest, ALastRowPrefillGivesTheReferencesLastRow) {
  std::unique_ptr<Session> session = open_session_with(model_path(), backend_session(backend(), kContext, kChunk, false));
  ASSERT_NE(session, nullptr);
  absl::StatusOr<std::vector<float>> last = session->feed(model_.prompt);
  ASSERT_TRUE(last.ok()) << last.status();
  const int64_t prompt_rows = static_cast<int64_t>(model_.prompt.size());
  EXPECT_LE(max_abs_diff(*last, model_.row(prompt_rows - 1)), kLogitTolerance);
  session->reset();
  EXPECT_EQ(session->feed(model_.prompt, LogitRows::all).status().code(), absl::StatusCode::kFailedPrecondition);
}

// Greedy sampling on the device: the decode Program ends in top_k with k =
// 1, so each token reads back its id and logit, and the tokens are the
// reference's.
TEST_P(LlamaReferenceTest, DeviceGreedyGivesTheReferenceTokens) {
  std::unique_ptr<Session> session = open_sampling_session(model_path(), {.temperature = 0}, backend());
  ASSERT_NE(session, nullptr);
  GenerateOptions options;
  options.max_new_tokens = static_cast<int64_t>(model_.greedy.size());
  options.sampling.temperature = 0;
  options.stop_at_eos = false;
  ASSERT_TRUE(session->samples_on_device(options.sampling));
  absl::StatusOr<GenerationResult> result = generate(*session, model_.prompt, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->tokens, model_.greedy);
}

TEST_P(LlamaReferenceTest, GreedyGenerationGivesTheReferenceTokens) {
  std::unique_ptr<Session> session = this->session();
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
    ::testing::Combine(::testing::Values(ModelForm("llama_f32", "hf"), ModelForm("llama_f32", "gguf"),
                                         ModelForm("llama_f16_sharded", "hf"), ModelForm("llama_f16_sharded", "gguf"),
                                         ModelForm("tied_bf16", "hf"), ModelForm("tied_bf16", "gguf"),
                                         ModelForm("qwen2_bias", "hf"), ModelForm("qwen2_bias", "gguf"),
                                         ModelForm("llama3_rope", "hf"), ModelForm("llama3_rope", "gguf"),
                                         ModelForm("mqa_head_dim", "hf"), ModelForm("mqa_head_dim", "gguf"),
                                         ModelForm("mistral", "hf")),
                       ::testing::ValuesIn(kBackends)),
    [](const auto& info) {
      const ModelForm& form = std::get<0>(info.param);
      return std::string(std::get<0>(form)) + "_" + std::get<1>(form) + "_" + std::get<1>(info.param);
    });

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

// format × backend
class KvCacheTest : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {
 protected:
  void SetUp() override {
    require_backend(backend());
    if (IsSkipped() || HasFatalFailure()) return;
    model_ = make_reference_model(dir_.path(), "llama_f32");
  }
  std::string path() const { return model_.path(std::get<0>(GetParam())); }
  std::string backend() const { return std::get<1>(GetParam()); }
  std::unique_ptr<Session> session(int64_t chunk = kChunk) const { return open_session(path(), chunk, backend()); }

  ModelDir dir_;
  ReferenceModel model_;
};

TEST_P(KvCacheTest, PrefillingNTokensEqualsFeedingThemOneAtATime) {
  std::unique_ptr<Session> at_once = session(/*chunk=*/16);
  std::unique_ptr<Session> one_by_one = session(/*chunk=*/16);
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
  EXPECT_EQ(at_once->counters().steps, 1u);  // 11 tokens in one chunk of 16
  EXPECT_EQ(one_by_one->counters().steps, model_.prompt.size());
}

TEST_P(KvCacheTest, ChunkSizeDoesNotChangeTheLogits) {
  std::vector<std::vector<float>> results;
  for (int64_t chunk : {1, 3, 4, 16}) {
    std::unique_ptr<Session> chunked = session(chunk);
    ASSERT_NE(chunked, nullptr);
    absl::StatusOr<std::vector<float>> all = chunked->feed(model_.prompt, LogitRows::all);
    ASSERT_TRUE(all.ok()) << all.status();
    results.push_back(*all);
  }
  for (size_t i = 1; i < results.size(); ++i) EXPECT_LE(max_abs_diff(results[0], results[i]), 1e-5);
}

TEST_P(KvCacheTest, ResetStartsAFreshContext) {
  std::unique_ptr<Session> fresh = session();
  ASSERT_NE(fresh, nullptr);
  absl::StatusOr<std::vector<float>> first = fresh->feed(model_.prompt);
  ASSERT_TRUE(first.ok());
  fresh->reset();
  absl::StatusOr<std::vector<float>> again = fresh->feed(model_.prompt);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*first, *again);
}

INSTANTIATE_TEST_SUITE_P(Formats, KvCacheTest,
                         ::testing::Combine(::testing::Values("hf", "gguf"), ::testing::ValuesIn(kBackends)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param);
                         });

// ---- counters ---------------------------------------------------------------------

// The guardrail on every backend: with greedy sampling on the device, a
// steady-state decode token is exactly one step and one submit, allocates
// and builds nothing, and reads back once, at most 8 bytes (the argmax id
// and its logit).
class DecodeCountersTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    require_backend(GetParam());
    if (IsSkipped() || HasFatalFailure()) return;
    model_ = make_reference_model(dir_.path(), "llama_f32");
    session_ = open_sampling_session(model_.path("gguf"), {.temperature = 0}, GetParam());
    ASSERT_NE(session_, nullptr);
  }

  static void expect_one_token(const kiln_counters& before, const kiln_counters& after, uint64_t tokens) {
    EXPECT_EQ(after.steps - before.steps, tokens);
    EXPECT_EQ(after.submits - before.submits, tokens);
    EXPECT_EQ(after.allocations - before.allocations, 0u);
    EXPECT_EQ(after.builds - before.builds, 0u);
    EXPECT_EQ(after.readbacks - before.readbacks, tokens);
    EXPECT_LE(after.bytes_from_device - before.bytes_from_device, 8 * tokens);
    // The token id in (4 bytes), and on a GPU the step values the recorded
    // command buffer reads (one uint32 per slot): a few bytes, never a row.
    EXPECT_GE(after.bytes_to_device - before.bytes_to_device, 4 * tokens);
    EXPECT_LE(after.bytes_to_device - before.bytes_to_device, 64 * tokens);
  }

  ModelDir dir_;
  ReferenceModel model_;
  std::unique_ptr<Session> session_;
};

TEST_P(DecodeCountersTest, EachFeedAndSampleIsOneStepOneSubmitNoAllocationAndOneSmallReadback) {
  std::vector<int32_t> history = model_.prompt;
  absl::StatusOr<Candidates> next = session_->feed_and_sample(model_.prompt, history);
  ASSERT_TRUE(next.ok()) << next.status();
  for (size_t step = 0; step + 1 < model_.greedy.size(); ++step) {
    ASSERT_EQ(next->ids.size(), 1u);
    EXPECT_EQ(next->logits.size(), 1u);  // greedy reads the id and its logit (a finiteness check)
    const int32_t token = next->ids[0];
    ASSERT_EQ(token, model_.greedy[step]) << "greedy token " << step;
    history.push_back(token);
    const kiln_counters before = session_->counters();
    next = session_->feed_and_sample(std::vector<int32_t>{token}, history);
    ASSERT_TRUE(next.ok()) << next.status();
    expect_one_token(before, session_->counters(), 1);
  }
}

TEST_P(DecodeCountersTest, GenerateCostsOneStepPerDecodedToken) {
  GenerateOptions options;
  options.max_new_tokens = static_cast<int64_t>(model_.greedy.size());
  options.sampling.temperature = 0;
  options.stop_at_eos = false;
  // The prompt's prefill first, so that what follows is steady state.
  ASSERT_TRUE(session_->feed_and_sample(model_.prompt, model_.prompt).ok());
  const kiln_counters warm = session_->counters();
  absl::StatusOr<GenerationResult> result = generate(*session_, model_.prompt, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->tokens, model_.greedy);
  const kiln_counters after = session_->counters();
  // 11 prompt tokens in prefill chunks of 4: 3 steps, one readback.
  const uint64_t prefill_steps = (model_.prompt.size() + kChunk - 1) / kChunk;
  const uint64_t decoded = static_cast<uint64_t>(result->decode_steps);
  EXPECT_EQ(decoded, model_.greedy.size() - 1);
  EXPECT_EQ(after.steps - warm.steps, prefill_steps + decoded);
  EXPECT_EQ(after.submits - warm.submits, prefill_steps + decoded);
  EXPECT_EQ(after.allocations, warm.allocations);
  EXPECT_EQ(after.readbacks - warm.readbacks, 1 + decoded);
  EXPECT_LE(after.bytes_from_device - warm.bytes_from_device, 8 * (1 + decoded));
}

INSTANTIATE_TEST_SUITE_P(Backends, DecodeCountersTest, ::testing::ValuesIn(kBackends));

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
  EXPECT_EQ(session->counters().steps, 0u);

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
