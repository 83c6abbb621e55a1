// The shipped default model (models/kjv-llama.gguf and its HF folder)
// against the PyTorch numbers in models/kjv-reference.json: perplexity of
// the held-out passage within 1 %, and the greedy continuation of
// "And the LORD said unto" token for token.

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backends/registry.h"
#include "gtest/gtest.h"
#include "runtime/generator.h"
#include "runtime/perplexity.h"
#include "runtime/session.h"

namespace kiln::runtime {
namespace {

const std::string kRoot = KILN_SOURCE_DIR;
const std::string kReference = kRoot + "/models/kjv-reference.json";

class KjvModelTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    path_ = kRoot + "/" + GetParam();
    const bool hf = GetParam().find(".gguf") == std::string::npos;
    const std::string required = hf ? path_ + "/model.safetensors" : path_;
    for (const std::string& file : {required, kReference}) {
      // The default model ships in models/: its absence is a broken checkout.
      ASSERT_TRUE(std::filesystem::exists(file)) << file << " is missing";
    }
    std::ifstream in(kReference);
    reference_ = nlohmann::json::parse(in);
    const int64_t context = reference_["perplexity"]["chunked"]["context"].get<int64_t>();
    SessionOptions options;
    options.programs.context = context;
    options.programs.all_logits = true;  // perplexity scores every position
    absl::StatusOr<std::unique_ptr<Session>> session = Session::open(path_, options);
    ASSERT_TRUE(session.ok()) << session.status();
    session_ = *std::move(session);
  }

  // A session of the model opened with `sampling` on the device, or without
  // (every token drawn from the logits row read back); null after a failure.
  std::unique_ptr<Session> open_sampling(const std::optional<SamplingOptions>& sampling) {
    SessionOptions options;
    options.sampling = sampling;
    absl::StatusOr<std::unique_ptr<Session>> session = Session::open(path_, options);
    EXPECT_TRUE(session.ok()) << session.status();
    return session.ok() ? *std::move(session) : nullptr;
  }

  // Generates from the reference prompt; `bytes_read` gets what the device
  // sent back meanwhile.
  absl::StatusOr<GenerationResult> generate_from_prompt(Session& session, const GenerateOptions& options,
                                                        uint64_t& bytes_read) {
    const kiln_counters before = session.counters();
    absl::StatusOr<GenerationResult> result = generate(session, prompt(), options);
    bytes_read = session.counters().bytes_from_device - before.bytes_from_device;
    return result;
  }

  std::vector<int32_t> prompt() const { return reference_["generation"]["prompt_ids"].get<std::vector<int32_t>>(); }

  std::string path_;
  nlohmann::json reference_;
  std::unique_ptr<Session> session_;
};

TEST_P(KjvModelTest, HeldOutPerplexityMatchesTheTrainingFramework) {
  const nlohmann::json& chunked = reference_["perplexity"]["chunked"];
  std::ifstream file(kRoot + "/" + reference_["heldout"]["file"].get<std::string>(), std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  absl::StatusOr<const frontend::Tokenizer*> tokenizer = session_->tokenizer();
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const std::vector<int32_t> ids = (*tokenizer)->encode(text, /*add_special=*/false);
  std::vector<int32_t> expected = reference_["heldout"]["ids"].get<std::vector<int32_t>>();
  expected.erase(expected.begin());  // BOS
  ASSERT_EQ(ids, expected) << "kiln's tokenizer differs from sentencepiece on the held-out text";
  absl::StatusOr<PerplexityResult> result =
      perplexity(*session_, ids, (*tokenizer)->bos_id(), chunked["chunk_tokens"].get<int64_t>());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->scored_tokens, chunked["scored_tokens"].get<int64_t>());
  EXPECT_EQ(result->windows, chunked["chunks"].get<int64_t>());
  const double expected_perplexity = chunked["perplexity"].get<double>();
  EXPECT_NEAR(result->perplexity, expected_perplexity, 0.01 * expected_perplexity);
  RecordProperty("kiln_perplexity", std::to_string(result->perplexity));
}

TEST_P(KjvModelTest, GreedyContinuationMatchesTokenForToken) {
  const nlohmann::json& generation = reference_["generation"];
  const std::vector<int32_t> prompt = generation["prompt_ids"].get<std::vector<int32_t>>();
  const std::vector<int32_t> expected = generation["greedy_ids"].get<std::vector<int32_t>>();
  absl::StatusOr<const frontend::Tokenizer*> tokenizer = session_->tokenizer();
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ((*tokenizer)->encode(generation["prompt"].get<std::string>(), /*add_special=*/true), prompt);
  GenerateOptions options;
  options.max_new_tokens = static_cast<int64_t>(expected.size());
  options.sampling.temperature = 0;
  options.stop_at_eos = false;  // the reference is not stopped at EOS either
  absl::StatusOr<GenerationResult> result = generate(*session_, prompt, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->tokens, expected);
  // The text streams as the prompt's continuation (keeping its leading space).
  EXPECT_EQ(generation["prompt"].get<std::string>() + result->text, generation["full_text"].get<std::string>());
}

// `kiln run MODEL --temp 0.8 --seed 1 -n 40` draws from the candidates
// the device's top_k op reads back; the same draw from full logits on the
// host (a session opened without sampling) gives the same text.
TEST_P(KjvModelTest, DeviceSamplingGivesTheHostSamplersText) {
  GenerateOptions options;
  options.max_new_tokens = 40;
  options.sampling.temperature = 0.8;
  options.sampling.seed = 1;
  options.stop_at_eos = false;
  std::vector<GenerationResult> results;
  for (const bool on_device : {true, false}) {
    std::unique_ptr<Session> session = open_sampling(on_device ? std::optional(options.sampling) : std::nullopt);
    ASSERT_NE(session, nullptr);
    ASSERT_EQ(session->samples_on_device(options.sampling), on_device);
    uint64_t read = 0;
    absl::StatusOr<GenerationResult> result = generate_from_prompt(*session, options, read);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->tokens.size(), 40u);
    // On the device, a token reads back top_k = 40 ids and their logits,
    // not the vocabulary's.
    const uint64_t steps_read = 1 + static_cast<uint64_t>(result->decode_steps);
    const uint64_t row_bytes = on_device ? 40 * 8 : session->vocab_size() * sizeof(float);
    EXPECT_EQ(read, steps_read * row_bytes) << (on_device ? "device sampling" : "host sampling");
    results.push_back(*std::move(result));
  }
  EXPECT_EQ(results[0].tokens, results[1].tokens);
  EXPECT_EQ(results[0].text, results[1].text);
  EXPECT_FALSE(results[0].text.empty());
}

// --top-k 0 keeps all 4,096 tokens, more than the device selects
// (kMaxDeviceTopK): the session's Programs end in logits, each token reads
// the row back, and the text is the host sampler's.
TEST_P(KjvModelTest, TopKZeroSamplesTheLogitsRowOnTheHost) {
  GenerateOptions options;
  options.max_new_tokens = 12;
  options.sampling.temperature = 0.8;
  options.sampling.top_k = 0;
  options.sampling.seed = 3;
  options.stop_at_eos = false;
  std::vector<GenerationResult> results;
  for (const bool with_sampling : {true, false}) {
    std::unique_ptr<Session> session = open_sampling(with_sampling ? std::optional(options.sampling) : std::nullopt);
    ASSERT_NE(session, nullptr);
    EXPECT_FALSE(session->samples_on_device(options.sampling));
    // Nor can a caller ask the device for candidates it does not compute.
    EXPECT_EQ(session->feed_and_sample(prompt(), prompt()).status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(session->position(), 0);
    uint64_t read = 0;
    absl::StatusOr<GenerationResult> result = generate_from_prompt(*session, options, read);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(read, (1 + static_cast<uint64_t>(result->decode_steps)) * session->vocab_size() * sizeof(float));
    results.push_back(*std::move(result));
  }
  EXPECT_EQ(results[0].tokens, results[1].tokens);
  EXPECT_EQ(results[0].tokens.size(), 12u);
}

// `kiln run models/kjv-llama.gguf --backend B` as users run it: the
// sampling op on the device, the lm head on the last row. Every backend
// gives the reference's greedy tokens and, for a seeded draw, the cpu
// plugin's tokens. A GPU plugin that cannot load here skips with its
// reason, unless KILN_REQUIRE_BACKENDS names it.
class KjvBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  absl::StatusOr<GenerationResult> run(const std::string& backend, const SamplingOptions& sampling, int64_t tokens) {
    SessionOptions options;
    options.backend = backend;
    options.device.cache_dir = KILN_BINARY_DIR "/e2e-kernel-cache";
    options.sampling = sampling;
    absl::StatusOr<std::unique_ptr<Session>> session = Session::open(kRoot + "/models/kjv-llama.gguf", options);
    if (!session.ok()) return session.status();
    GenerateOptions generate_options;
    generate_options.max_new_tokens = tokens;
    generate_options.sampling = sampling;
    generate_options.stop_at_eos = false;
    std::ifstream in(kReference);
    const nlohmann::json reference = nlohmann::json::parse(in);
    const std::vector<int32_t> prompt = reference["generation"]["prompt_ids"].get<std::vector<int32_t>>();
    return generate(**session, prompt, generate_options);
  }

  void SetUp() override {
    absl::StatusOr<const backends::PluginInfo*> plugin = backends::Registry::global().find(GetParam());
    if (plugin.ok()) return;
    if (backends::backend_required(GetParam())) FAIL() << plugin.status();
    GTEST_SKIP() << GetParam() << " is unavailable here: " << plugin.status();
  }
};

TEST_P(KjvBackendTest, GreedyTextIsTheReferences) {
  std::ifstream in(kReference);
  const nlohmann::json generation = nlohmann::json::parse(in)["generation"];
  const std::vector<int32_t> expected = generation["greedy_ids"].get<std::vector<int32_t>>();
  absl::StatusOr<GenerationResult> result =
      run(GetParam(), {.temperature = 0}, static_cast<int64_t>(expected.size()));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->tokens, expected);
  EXPECT_EQ(generation["prompt"].get<std::string>() + result->text, generation["full_text"].get<std::string>());
}

TEST_P(KjvBackendTest, SeededSamplingGivesTheCpuText) {
  const SamplingOptions sampling{.temperature = 0.8, .top_k = 40, .top_p = 0.95, .repeat_penalty = 1.1, .seed = 7};
  absl::StatusOr<GenerationResult> cpu = run("cpu", sampling, 32);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  absl::StatusOr<GenerationResult> backend = run(GetParam(), sampling, 32);
  ASSERT_TRUE(backend.ok()) << backend.status();
  EXPECT_EQ(backend->tokens, cpu->tokens);
  EXPECT_EQ(backend->text, cpu->text);
}

INSTANTIATE_TEST_SUITE_P(Backends, KjvBackendTest, ::testing::Values("cpu", "vulkan", "opencl"));

INSTANTIATE_TEST_SUITE_P(Formats, KjvModelTest, ::testing::Values("models/kjv-llama.gguf", "models/kjv-llama"),
                         [](const auto& info) { return info.param.find(".gguf") != std::string::npos ? "gguf" : "hf"; });

}  // namespace
}  // namespace kiln::runtime
