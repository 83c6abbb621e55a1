// `kiln bench` and `kiln synth` as a user runs them: the CI smoke of the
// model benchmark (the shipped model, a few tokens, the cpu plugin) checks
// the JSON it writes and the per-token guardrails; a small synthetic model
// is written in both formats and run.

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/session.h"
#include "tests/e2e/kiln_command.h"

namespace kiln::cli {
namespace {

using ::testing::HasSubstr;

using ::kiln::testing::CommandResult;
using ::kiln::testing::read_file;

class BenchCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("kiln_bench_cli_", ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
                        ::getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  CommandResult kiln(const std::vector<std::string>& args) { return ::kiln::testing::run_kiln(args, dir_.string()); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

const std::string kKjvModel = absl::StrCat(KILN_SOURCE_DIR, "/models/kjv-llama.gguf");

TEST_F(BenchCliTest, SmokeWritesEveryFigureAndMeetsThePerTokenGuardrails) {
  const CommandResult r = kiln({"bench", kKjvModel, "--backend", "cpu", "--prompt-len", "8", "--gen", "4", "--reps",
                                "1", "--copy-mib", "8", "--json", path("bench.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("copy bandwidth"));
  EXPECT_THAT(r.out, HasSubstr("a kernel copy"));
  const nlohmann::json report = nlohmann::json::parse(read_file(path("bench.json")));
  for (const char* key : {"model", "backend", "device", "date", "prefill_tok_s", "decode_tok_s", "ms_per_token",
                          "effective_gb_s", "copy_gb_s", "roofline_share", "decode_tok_s_min", "decode_tok_s_max"}) {
    EXPECT_TRUE(report.contains(key)) << key;
  }
  for (const char* key : {"prefill_tok_s", "decode_tok_s", "ms_per_token", "effective_gb_s", "copy_gb_s",
                          "roofline_share"}) {
    EXPECT_GT(report[key].get<double>(), 0) << key;
  }
  EXPECT_EQ(report["backend"], "cpu");
  ASSERT_TRUE(report.contains("per_token"));
  const nlohmann::json& per_token = report["per_token"];
  for (const char* key : {"submits", "dispatches", "allocations", "bytes_read_back"}) {
    EXPECT_TRUE(per_token.contains(key)) << key;
  }
  EXPECT_EQ(per_token["submits"].get<double>(), 1);
  EXPECT_EQ(per_token["allocations"].get<double>(), 0);
  EXPECT_LE(per_token["bytes_read_back"].get<double>(), 8);  // the greedy id and its logit
  EXPECT_GT(per_token["dispatches"].get<double>(), 0);
  // The shipped model is tied: its embedding is the lm head, read whole.
  EXPECT_GT(report["weight_bytes_per_token"].get<double>(), 9e6);
}

// -t reaches the cpu plugin as the device option `threads`, and the device
// reports the pool it made (get_device_capabilities), which bench prints.
TEST_F(BenchCliTest, ThreadsSizeTheCpuDeviceItReports) {
  for (const char* threads : {"1", "3"}) {
    const CommandResult r = kiln({"bench", kKjvModel, "--backend", "cpu", "-t", threads, "--prompt-len", "4", "--gen",
                                  "2", "--reps", "1", "--copy-mib", "8", "--json", path("bench.json")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json report = nlohmann::json::parse(read_file(path("bench.json")));
    EXPECT_THAT(report["device"].get<std::string>(),
                ::testing::EndsWith(absl::StrCat("(", threads, threads == std::string("1") ? " thread)" : " threads)")));
  }
}

TEST_F(BenchCliTest, AContextTooShortForThePromptIsRefusedNamingBoth) {
  const CommandResult r = kiln({"bench", kKjvModel, "--prompt-len", "500", "--gen", "100", "--copy-mib", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("kiln bench: "));
  EXPECT_THAT(r.err, HasSubstr("600"));
}

TEST_F(BenchCliTest, SynthWritesOneModelInBothFormats) {
  for (const char* format : {"hf", "gguf"}) {
    const CommandResult r = kiln({"synth", "qwen2.5-0.5b", "--layers", "1", "--vocab", "300", "--format", format,
                                  "--seed", "7", "-o", path(absl::StrCat("model.", format))});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  runtime::SessionOptions options;
  options.programs.context = 16;
  std::vector<std::vector<float>> logits;
  for (const char* format : {"hf", "gguf"}) {
    absl::StatusOr<std::unique_ptr<runtime::Session>> session =
        runtime::Session::open(path(absl::StrCat("model.", format)), options);
    ASSERT_TRUE(session.ok()) << session.status();
    EXPECT_EQ((*session)->config().hidden_size, 896);
    EXPECT_EQ((*session)->config().num_kv_heads, 2);
    EXPECT_TRUE((*session)->config().qkv_bias);
    EXPECT_TRUE((*session)->config().tie_word_embeddings);
    ASSERT_TRUE((*session)->tokenizer().ok());
    const std::vector<int32_t> ids = {1, 2, 3, 299};
    absl::StatusOr<std::vector<float>> out = (*session)->feed(ids);
    ASSERT_TRUE(out.ok()) << out.status();
    for (float value : *out) ASSERT_TRUE(std::isfinite(value));
    logits.push_back(*std::move(out));
  }
  // One seed, one model: the GGUF (q/k rows permuted, 1-D tensors in f32)
  // computes what the HF folder computes.
  ASSERT_EQ(logits[0].size(), logits[1].size());
  for (size_t i = 0; i < logits[0].size(); ++i) EXPECT_NEAR(logits[0][i], logits[1][i], 1e-3) << i;
}

TEST_F(BenchCliTest, SynthLlamaGgufCarriesLlama3RopeScaling) {
  const CommandResult r = kiln({"synth", "llama-3.2-1b", "--layers", "1", "--vocab", "512", "--format", "gguf",
                                "--dtype", "f32", "-o", path("llama.gguf")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  runtime::SessionOptions options;
  options.programs.context = 8;
  absl::StatusOr<std::unique_ptr<runtime::Session>> session = runtime::Session::open(path("llama.gguf"), options);
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ((*session)->config().rope.scaling_factor, 32.0);
  EXPECT_EQ((*session)->config().head_dim, 64);
  absl::StatusOr<const frontend::Tokenizer*> tokenizer = (*session)->tokenizer();
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const std::vector<int32_t> ids = (*tokenizer)->encode("In the beginning", false);
  absl::StatusOr<std::string> text = (*tokenizer)->decode(ids);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "In the beginning");
}

TEST_F(BenchCliTest, SynthRefusesAnUnknownPresetListingThePresets) {
  const CommandResult r = kiln({"synth", "gpt-5", "-o", path("x")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no preset 'gpt-5'; the presets are llama-3.2-1b, llama-3.1-8b, qwen2.5-0.5b, smollm-135m"));
}

}  // namespace
}  // namespace kiln::cli
