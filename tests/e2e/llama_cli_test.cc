// The model side of the command line, run as a user runs it: `kiln run`,
// `kiln compile` and `kiln perplexity` on random models from
// make_llama_models.py, with their outputs checked against the NumPy
// reference, and bad models rejected with one clear line.

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "frontend/npy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/perplexity.h"
#include "tests/e2e/llama_model_fixture.h"

namespace kiln::runtime {
namespace {

using ::kiln::testing::cpu_session;
using ::kiln::testing::make_reference_model;
using ::kiln::testing::max_abs_diff;
using ::kiln::testing::ModelDir;
using ::kiln::testing::ReferenceModel;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string quoted(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class LlamaCliTest : public ::testing::Test {
 protected:
  void SetUp() override { model_ = make_reference_model(dir_.path(), "llama_f32"); }

  CommandResult kiln(const std::vector<std::string>& args) {
    std::string command = absl::StrCat(KILN_BINARY_DIR, "/tools/kiln");
    for (const std::string& arg : args) absl::StrAppend(&command, " ", quoted(arg));
    const std::string out = dir_.path() + "/stdout", err = dir_.path() + "/stderr";
    const int status = std::system(absl::StrCat(command, " >", out, " 2>", err).c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out), read_file(err)};
  }

  // A copy of the HF folder with config.json edited by `edit`.
  std::string edited_hf(const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
    const std::string copy = dir_.path() + "/" + name;
    std::filesystem::copy(model_.path("hf"), copy, std::filesystem::copy_options::recursive);
    nlohmann::json config = nlohmann::json::parse(read_file(copy + "/config.json"));
    edit(config);
    std::ofstream(copy + "/config.json") << config.dump();
    return copy;
  }

  std::string prompt_ids() const { return absl::StrJoin(model_.prompt, ","); }

  ModelDir dir_;
  ReferenceModel model_;
};

TEST_F(LlamaCliTest, RunDumpsTheLogitsOfEveryTokenFed) {
  const std::string dump = dir_.path() + "/logits.npy";
  const CommandResult result = kiln({"run", model_.path("gguf"), "--prompt-ids", prompt_ids(), "-n", "6", "--temp",
                                     "0", "--ignore-eos", "--ctx", "32", "--prefill-chunk", "4", "--dump-logits",
                                     dump});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("prefill 11 tokens"));
  EXPECT_THAT(result.err, HasSubstr("decode 5 tokens"));
  absl::StatusOr<frontend::TensorData> logits = frontend::read_npy(dump);
  ASSERT_TRUE(logits.ok()) << logits.status();
  ASSERT_EQ(logits->shape, (std::vector<int64_t>{model_.rows, model_.vocab}));
  const std::span<const float> values(reinterpret_cast<const float*>(logits->data), model_.rows * model_.vocab);
  EXPECT_LE(max_abs_diff(values, model_.logits), 2e-4);
}

TEST_F(LlamaCliTest, RunWithoutATokenizerPrintsTheGeneratedIds) {
  const CommandResult result =
      kiln({"run", model_.path("hf"), "--prompt-ids", prompt_ids(), "-n", "6", "--temp", "0", "--ignore-eos"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, absl::StrCat(absl::StrJoin(model_.greedy, " "), " \n"));
}

TEST_F(LlamaCliTest, TheSameSeedGivesTheSameText) {
  std::vector<std::string> outputs;
  for (const char* seed : {"11", "11", "12"}) {
    const CommandResult result = kiln({"run", model_.path("gguf"), "-p", "ab", "-n", "24", "--temp", "1.5",
                                       "--top-k", "0", "--top-p", "1", "--ignore-eos", "--seed", seed});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.out, StartsWith("ab"));  // the prompt, then its continuation
    outputs.push_back(result.out);
  }
  EXPECT_EQ(outputs[0], outputs[1]);
  EXPECT_NE(outputs[0], outputs[2]);
}

TEST_F(LlamaCliTest, CompileWritesThePrefillAndDecodePrograms) {
  const std::string out = dir_.path() + "/programs.json";
  const CommandResult result = kiln({"compile", model_.path("gguf"), "-o", out, "--ctx", "32"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json programs = nlohmann::json::parse(read_file(out));
  EXPECT_EQ(programs["context"], 32);
  for (const char* name : {"prefill", "decode"}) {
    ASSERT_TRUE(programs.contains(name)) << name;
    EXPECT_FALSE(programs[name]["dispatches"].empty()) << name;
    EXPECT_EQ(programs[name]["weights"], programs["prefill"]["weights"]) << name;
    EXPECT_EQ(programs[name]["states"], programs["prefill"]["states"]) << name;
  }
  EXPECT_EQ(programs["prefill"]["symbols"]["T"], 32);  // the chunk (64) capped at the context
  EXPECT_FALSE(programs["decode"]["symbols"].contains("T"));
}

TEST_F(LlamaCliTest, PerplexityMatchesTheReferenceLogits) {
  // The reference rows are the forward of BOS + the rest of the prompt: the
  // perplexity of those ids in one window scores rows 0 .. n-2.
  double total = 0;
  for (size_t r = 0; r + 1 < model_.prompt.size(); ++r) {
    const std::span<const float> row = model_.row(static_cast<int64_t>(r));
    double sum = 0;
    for (float v : row) sum += std::exp(static_cast<double>(v));
    total += std::log(sum) - row[model_.prompt[r + 1]];
  }
  const double expected = std::exp(total / static_cast<double>(model_.prompt.size() - 1));
  absl::StatusOr<std::unique_ptr<Session>> session = Session::open(model_.path("gguf"), cpu_session(32, 4));
  ASSERT_TRUE(session.ok()) << session.status();
  const std::vector<int32_t> text(model_.prompt.begin() + 1, model_.prompt.end());
  absl::StatusOr<PerplexityResult> result = perplexity(**session, text, model_.prompt[0]);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_NEAR(result->perplexity, expected, 1e-4 * expected);
  EXPECT_EQ(result->scored_tokens, 10);
  EXPECT_EQ(result->windows, 1);
  absl::StatusOr<PerplexityResult> windows = perplexity(**session, text, model_.prompt[0], /*window_tokens=*/4);
  ASSERT_TRUE(windows.ok()) << windows.status();
  EXPECT_EQ(windows->windows, 3);  // 4 + 4 + 2 ids, each after a fresh BOS
  EXPECT_EQ(windows->scored_tokens, 10);

  std::ofstream(dir_.path() + "/text.txt") << "the east at noon\n";
  const CommandResult cli = kiln({"perplexity", model_.path("gguf"), "-f", dir_.path() + "/text.txt"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_THAT(cli.out, StartsWith("perplexity "));
  EXPECT_THAT(cli.out, HasSubstr("1 windows of up to 63 tokens"));
}

TEST_F(LlamaCliTest, BadModelsGetOneClearLine) {
  struct Case {
    std::string name;
    std::function<void(nlohmann::json&)> edit;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"gpt2", [](nlohmann::json& c) { c["architectures"] = {"GPT2LMHeadModel"}; },
       "architecture 'GPT2LMHeadModel' is not supported (supported: LlamaForCausalLM, MistralForCausalLM, "
       "Qwen2ForCausalLM)"},
      {"narrow", [](nlohmann::json& c) { c["hidden_size"] = 64; },
       "tensor 'model.embed_tokens.weight': expected shape [300, 64], found [300, 72]"},
      {"deeper", [](nlohmann::json& c) { c["num_hidden_layers"] = 3; },
       "missing tensor 'model.layers.2.input_layernorm.weight' (expected shape [72])"},
      {"heads", [](nlohmann::json& c) { c["num_key_value_heads"] = 4; },
       "num_attention_heads 6 is not a multiple of num_key_value_heads 4"},
  };
  for (const Case& c : cases) {
    const CommandResult result = kiln({"run", edited_hf(c.name, c.edit), "--prompt-ids", "1,5", "-n", "2"});
    EXPECT_EQ(result.exit_code, 1) << c.name;
    EXPECT_THAT(result.err, StartsWith("kiln run: ")) << c.name;
    EXPECT_THAT(result.err, HasSubstr(c.message)) << c.name;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
}

TEST_F(LlamaCliTest, ContextOverflowIsAClearError) {
  const std::string thirty = absl::StrJoin(std::vector<int>(30, 5), ",");
  const CommandResult result = kiln({"run", model_.path("gguf"), "--prompt-ids", thirty, "-n", "40"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "kiln run: prompt of 30 tokens + 40 new exceeds the model's context of 64\n");
}

TEST_F(LlamaCliTest, HelpDescribesEveryModelCommand) {
  for (const char* command : {"run", "perplexity", "compile"}) {
    const CommandResult result = kiln({command, model_.path("gguf"), "--help"});
    EXPECT_EQ(result.exit_code, 0) << command;
    EXPECT_THAT(result.out, HasSubstr("usage: kiln ")) << command;
  }
  EXPECT_THAT(kiln({"run", model_.path("gguf"), "--help"}).out, HasSubstr("--dump-logits"));
  EXPECT_THAT(kiln({"perplexity", "--help"}).out, HasSubstr("--window"));
}

}  // namespace
}  // namespace kiln::runtime
