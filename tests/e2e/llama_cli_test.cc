// The model side of the command line, run as a user runs it: `kiln run`,
// `kiln compile` and `kiln perplexity` on random models from
// make_llama_models.py, with their outputs checked against the NumPy
// reference, and bad models rejected with one clear line.

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/registry.h"
#include "frontend/npy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/generator.h"
#include "runtime/perplexity.h"
#include "tests/e2e/kiln_command.h"
#include "tests/e2e/llama_model_fixture.h"

namespace kiln::runtime {
namespace {

using ::kiln::testing::cpu_session;
using ::kiln::testing::make_reference_model;
using ::kiln::testing::max_abs_diff;
using ::kiln::testing::CommandResult;
using ::kiln::testing::ModelDir;
using ::kiln::testing::read_file;
using ::kiln::testing::ReferenceModel;
using ::kiln::testing::run_kiln;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

class LlamaCliTest : public ::testing::Test {
 protected:
  void SetUp() override { model_ = make_reference_model(dir_.path(), "llama_f32"); }

  // kiln with `stdin_text`, if any, on stdin; stdout and stderr captured.
  CommandResult kiln(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    return run_kiln(args, dir_.path(), stdin_text);
  }
  // kiln with stdout sent to `stdout_path` (a file, /dev/full, ...).
  CommandResult kiln_redirected(const std::vector<std::string>& args, const std::string& stdout_path) {
    return run_kiln(args, dir_.path(), "", stdout_path);
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

// --cache-type f16 (llama.cpp's -ctk/-ctv f16): the compiled state is half
// the bytes, and the logits of every token fed move by f16's rounding of k
// and v (1.2e-3 at most on this model), against the f32 cache's 2e-4
// agreement with the reference.
TEST_F(LlamaCliTest, CacheTypeF16HalvesTheStateAndKeepsTheLogitsClose) {
  std::vector<std::string> states;
  for (const char* type : {"f32", "f16"}) {
    const CommandResult compiled = kiln({"compile", model_.path("gguf"), "--ctx", "32", "--cache-type", type, "-o",
                                         dir_.path() + "/programs.json"});
    ASSERT_EQ(compiled.exit_code, 0) << compiled.err;
    const size_t at = compiled.err.find("state ");
    ASSERT_NE(at, std::string::npos) << compiled.err;
    states.push_back(compiled.err.substr(at + 6, compiled.err.find(' ', at + 6) - at - 6));
  }
  EXPECT_EQ(std::stoll(states[0]), 2 * std::stoll(states[1])) << states[0] << " vs " << states[1];

  const std::string dump = dir_.path() + "/logits_f16_cache.npy";
  const CommandResult result = kiln({"run", model_.path("gguf"), "--prompt-ids", prompt_ids(), "-n", "6", "--temp",
                                     "0", "--ignore-eos", "--ctx", "32", "--prefill-chunk", "4", "--cache-type", "f16",
                                     "--dump-logits", dump});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  absl::StatusOr<frontend::TensorData> logits = frontend::read_npy(dump);
  ASSERT_TRUE(logits.ok()) << logits.status();
  ASSERT_EQ(logits->shape, (std::vector<int64_t>{model_.rows, model_.vocab}));
  const std::span<const float> values(reinterpret_cast<const float*>(logits->data), model_.rows * model_.vocab);
  const double difference = max_abs_diff(values, model_.logits);
  std::cerr << "f16 cache vs the f32 reference: max |logit difference| " << difference << "\n";
  EXPECT_LE(difference, 1e-2);
  EXPECT_GT(difference, 0.0) << "an f16 cache rounds k and v: the logits cannot all be the f32 run's";

  const CommandResult refused = kiln({"run", model_.path("gguf"), "--prompt-ids", prompt_ids(), "--cache-type", "i32"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;  // a body error: exit 1 with its cause
  EXPECT_THAT(refused.err, HasSubstr("--cache-type i32: expected f32, f16 or bf16"));
}

// Every GPU backend with an f16 cache gives the cpu plugin's f16-cache
// logits: both round the same k and v to f16, so they agree (7e-6 here)
// far more closely than an f16 cache does with an f32 one (1.2e-3): a
// backend that kept an f32 cache would fail the 2e-4 bound.
TEST_F(LlamaCliTest, CacheTypeF16GivesTheCpuLogitsOnEveryGpuBackend) {
  const auto dump_logits = [&](const std::string& backend) -> std::vector<float> {
    const std::string dump = absl::StrCat(dir_.path(), "/logits_", backend, ".npy");
    const CommandResult result = kiln({"run", model_.path("gguf"), "--backend", backend, "--prompt-ids", prompt_ids(),
                                       "-n", "6", "--temp", "0", "--ignore-eos", "--ctx", "32", "--prefill-chunk", "4",
                                       "--cache-type", "f16", "--dump-logits", dump});
    EXPECT_EQ(result.exit_code, 0) << backend << ": " << result.err;
    absl::StatusOr<frontend::TensorData> logits = frontend::read_npy(dump);
    if (!logits.ok()) return {};
    const float* data = reinterpret_cast<const float*>(logits->data);
    return std::vector<float>(data, data + model_.rows * model_.vocab);
  };
  const std::vector<float> cpu = dump_logits("cpu");
  ASSERT_EQ(cpu.size(), static_cast<size_t>(model_.rows * model_.vocab));
  int compared = 0;
  for (const std::string backend : {"vulkan", "opencl"}) {
    absl::StatusOr<const backends::PluginInfo*> plugin = backends::Registry::global().find(backend);
    if (!plugin.ok()) {
      EXPECT_FALSE(backends::backend_required(backend)) << "KILN_REQUIRE_BACKENDS names " << backend << ": "
                                                         << plugin.status();
      std::cerr << backend << " is unavailable here, not compared: " << plugin.status() << "\n";
      continue;
    }
    const std::vector<float> gpu = dump_logits(backend);
    ASSERT_EQ(gpu.size(), cpu.size()) << backend;
    const double difference = max_abs_diff(gpu, cpu);
    std::cerr << backend << " vs cpu, both with an f16 cache: max |logit difference| " << difference << "\n";
    EXPECT_LE(difference, 2e-4) << backend;
    ++compared;
  }
  if (compared == 0) GTEST_SKIP() << "no GPU backend is available here";
}

TEST_F(LlamaCliTest, RunWithoutATokenizerPrintsTheGeneratedIds) {
  const CommandResult result =
      kiln({"run", model_.path("hf"), "--prompt-ids", prompt_ids(), "-n", "6", "--temp", "0", "--ignore-eos"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, absl::StrCat(absl::StrJoin(model_.greedy, " "), " \n"));
}

// The cpu plugin keeps no GPU times: --profile says so and the run, which
// succeeded, still exits 0 with its text.
TEST_F(LlamaCliTest, ProfileOnABackendWithoutTimesIsANoteNotAFailure) {
  const CommandResult result = kiln({"run", model_.path("hf"), "--backend", "cpu", "--prompt-ids", prompt_ids(), "-n",
                                     "3", "--temp", "0", "--ignore-eos", "--profile"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("--profile: cpu: the cpu plugin does not profile dispatches"));
  EXPECT_EQ(result.out, absl::StrCat(absl::StrJoin(std::vector<int32_t>(model_.greedy.begin(), model_.greedy.begin() + 3), " "), " \n"));
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
  // Slots name the step values: prefill's T is the chunk (64) capped at the
  // context; decode has no T (one static token), only P.
  EXPECT_EQ(programs["prefill"]["slots"][0]["name"], "T");
  EXPECT_EQ(programs["prefill"]["slots"][0]["bound"], 32);
  EXPECT_EQ(programs["decode"]["slots"][0]["name"], "P");
  // Both end in the device sampling op of kiln run's default sampling.
  for (const char* name : {"prefill", "decode"}) EXPECT_EQ(programs[name]["dispatches"].back()["kernel"], "top_k");
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

// llama-perplexity's method: whole windows, the first id replaced by BOS,
// the second half scored. Two copies of the prompt (which begins with BOS)
// in windows of its length run the reference forward twice.
TEST_F(LlamaCliTest, LlamaCppCompatiblePerplexityScoresTheSecondHalfOfEachWindow) {
  const int64_t n = static_cast<int64_t>(model_.prompt.size());
  std::vector<double> nll;
  for (int64_t r = n / 2; r + 1 < n; ++r) {
    const std::span<const float> row = model_.row(r);
    double sum = 0;
    for (float v : row) sum += std::exp(static_cast<double>(v));
    nll.push_back(std::log(sum) - row[model_.prompt[r + 1]]);
  }
  double mean = 0, squares = 0;
  for (double v : nll) mean += v / static_cast<double>(nll.size());
  for (double v : nll) squares += v * v / static_cast<double>(nll.size());
  const double count = 2.0 * static_cast<double>(nll.size());
  const double expected = std::exp(mean);
  const double expected_uncertainty = expected * std::sqrt((squares - mean * mean) / (count - 1));

  absl::StatusOr<std::unique_ptr<Session>> session = Session::open(model_.path("gguf"), cpu_session(32, 4));
  ASSERT_TRUE(session.ok()) << session.status();
  std::vector<int32_t> ids = model_.prompt;
  ids.insert(ids.end(), model_.prompt.begin(), model_.prompt.end());
  ids.push_back(model_.prompt[1]);  // a partial third window, dropped
  absl::StatusOr<PerplexityResult> result = llama_cpp_perplexity(**session, ids, model_.prompt[0], n);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->windows, 2);
  EXPECT_EQ(result->scored_tokens, static_cast<int64_t>(count));
  EXPECT_NEAR(result->perplexity, expected, 1e-4 * expected);
  EXPECT_NEAR(result->uncertainty, expected_uncertainty, 1e-3 * expected_uncertainty + 1e-9);
  EXPECT_THAT(llama_cpp_perplexity(**session, model_.prompt, model_.prompt[0], n).status().message(),
              HasSubstr("needs at least 2 windows of 11 (22 tokens)"));

  std::ofstream(dir_.path() + "/text.txt") << "the east at noon and the west at night, the east at noon\n";
  const CommandResult cli = kiln({"perplexity", model_.path("gguf"), "-f", dir_.path() + "/text.txt",
                                  "--llama-cpp-compatible", "--window", "8"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_THAT(cli.out, ContainsRegex("Final estimate: PPL = [0-9]+\\.[0-9]{4} \\+/- [0-9]+\\.[0-9]{5}\n$"));
  EXPECT_THAT(kiln({"perplexity", "--help"}).out, HasSubstr("--llama-cpp-compatible"));
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
  // A count whose sum with the prompt overflows int64, and a -p prompt: refused before the prompt is echoed.
  const CommandResult huge = kiln({"run", model_.path("gguf"), "-p", "ab", "-n", "9223372036854775807"});
  EXPECT_EQ(huge.exit_code, 1);
  EXPECT_THAT(huge.err, HasSubstr("+ 9223372036854775807 new exceeds the model's context of 64"));
  EXPECT_EQ(huge.out, "");
}

TEST_F(LlamaCliTest, MinusOneGeneratesUntilTheContextIsFull) {
  const CommandResult result = kiln({"run", model_.path("hf"), "--prompt-ids", prompt_ids(), "-n", "-1",
                                     "--ignore-eos", "--ctx", "16", "--temp", "0"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // 11 prompt tokens leave room for 5 generated ones (the last is not fed back).
  EXPECT_THAT(result.err, HasSubstr("kiln run: the context of 16 tokens is full; generation stopped (see --ctx)"));
  EXPECT_THAT(result.err, HasSubstr("decode 4 tokens"));
  EXPECT_THAT(result.err, HasSubstr("stop: context full"));
  const std::vector<int32_t> first_five(model_.greedy.begin(), model_.greedy.begin() + 5);
  EXPECT_EQ(result.out, absl::StrCat(absl::StrJoin(first_five, " "), " \n"));
  EXPECT_THAT(kiln({"run", model_.path("gguf"), "--prompt-ids", "1", "-n", "-2"}).err,
              HasSubstr("-n -2 must be >= 0, or -1 for no limit"));
}

TEST_F(LlamaCliTest, WithoutASeedTheSeedIsRandomAndPrinted) {
  const std::vector<std::string> args = {"run", model_.path("gguf"), "-p", "ab", "-n", "24", "--temp", "1.5",
                                         "--top-k", "0", "--ignore-eos"};
  const CommandResult first = kiln(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::smatch seed;
  ASSERT_TRUE(std::regex_search(first.err, seed, std::regex("\\| seed ([0-9]+)\n"))) << first.err;
  const CommandResult second = kiln(args);
  EXPECT_THAT(second.err, Not(HasSubstr(seed[0].str())));  // 2^-64 odds of a false failure
  std::vector<std::string> repeat = args;
  repeat.insert(repeat.end(), {"--seed", seed[1].str()});
  const CommandResult repeated = kiln(repeat);
  EXPECT_EQ(repeated.out, first.out);
  EXPECT_THAT(repeated.err, HasSubstr(seed[0].str()));
}

TEST_F(LlamaCliTest, PromptFromAFileOrStdin) {
  const std::vector<std::string> common = {"-n", "8", "--temp", "0", "--ignore-eos"};
  const auto run = [&](std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.end(), common.begin(), common.end());
    return kiln(args, stdin_text);
  };
  const CommandResult inline_prompt = run({"run", model_.path("gguf"), "-p", "in the east"});
  ASSERT_EQ(inline_prompt.exit_code, 0) << inline_prompt.err;
  EXPECT_THAT(inline_prompt.out, StartsWith("in the east"));
  std::ofstream(dir_.path() + "/prompt.txt") << "in the east";
  EXPECT_EQ(run({"run", model_.path("gguf"), "-f", dir_.path() + "/prompt.txt"}).out, inline_prompt.out);
  EXPECT_EQ(run({"run", model_.path("gguf"), "-p", "-"}, "in the east").out, inline_prompt.out);
  const CommandResult missing = run({"run", model_.path("gguf"), "-f", dir_.path() + "/none.txt"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("none.txt: cannot open: No such file or directory"));
}

TEST_F(LlamaCliTest, ModelGivenAsLlamaCppUsersGiveIt) {
  const std::vector<std::string> tail = {"--prompt-ids", prompt_ids(), "-n", "3", "--temp", "0", "--ignore-eos"};
  const auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), tail.begin(), tail.end());
    const CommandResult result = kiln(args);
    EXPECT_EQ(result.exit_code, 0) << absl::StrJoin(args, " ") << ": " << result.err;
    return result.out;
  };
  // The HF model has no tokenizer, so it prints ids; the GGUF one prints text.
  const std::string ids = absl::StrCat(
      absl::StrJoin(std::vector<int32_t>(model_.greedy.begin(), model_.greedy.begin() + 3), " "), " \n");
  EXPECT_EQ(run({"run", "-m", model_.path("hf")}), ids);
  EXPECT_EQ(run({"run", "--ctx", "32", model_.path("hf")}), ids);  // options before the model
  EXPECT_EQ(run({"run", model_.path("hf") + "/model.safetensors"}), ids);  // the weights stand for their folder
  const std::string text = run({"run", model_.path("gguf")});
  EXPECT_FALSE(text.empty());
  // GGUF is known by its magic, not its name.
  const std::string renamed = dir_.path() + "/model.bin";
  std::filesystem::copy_file(model_.path("gguf"), renamed);
  EXPECT_EQ(run({"run", "--ctx", "48", "--model", renamed}), text);  // options before the model
}

TEST_F(LlamaCliTest, WrongModelPathsSayWhatThePathIs) {
  std::filesystem::create_directory(dir_.path() + "/empty_folder");
  std::ofstream(dir_.path() + "/notes.txt") << "the notes";
  const std::string expected =
      "; expected a GGUF file or a Hugging Face model folder (config.json and model.safetensors)\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {dir_.path() + "/missing.gguf", ": no such file or folder"},
      {dir_.path() + "/empty_folder", ": a folder without config.json"},
      {dir_.path() + "/notes.txt", ": a file that is not GGUF (it begins with 'the note')"},
  };
  for (const auto& [path, what] : cases) {
    const CommandResult result = kiln({"run", "-p", "x", path});
    EXPECT_EQ(result.exit_code, 1) << path;
    EXPECT_EQ(result.err, absl::StrCat("kiln run: ", path, what, expected));
    EXPECT_EQ(kiln({"compile", path}).err, absl::StrCat("kiln compile: ", path, what, expected));
    EXPECT_EQ(kiln({"perplexity", "-f", dir_.path() + "/notes.txt", "-m", path}).err,
              absl::StrCat("kiln perplexity: ", path, what, expected));
  }
  EXPECT_THAT(kiln({"run", "-p", "x"}).err, HasSubstr("missing the model"));
  EXPECT_THAT(kiln({"run", model_.path("gguf"), "-m", model_.path("hf"), "-p", "x"}).err,
              HasSubstr("two models given"));
}

TEST_F(LlamaCliTest, OutputsToDevicesFifosAndSymlinksAreWrittenInPlace) {
  // A null device of our own as root, so that a regression cannot replace the system's.
  std::string device = "/dev/null";
  if (::geteuid() == 0) {
    device = dir_.path() + "/null";
    ASSERT_EQ(::mknod(device.c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  }
  const std::vector<std::string> compile = {"compile", model_.path("gguf"), "--ctx", "32", "-o"};
  const auto with_output = [&](const std::string& path) {
    std::vector<std::string> args = compile;
    args.push_back(path);
    return kiln(args);
  };
  ASSERT_EQ(with_output(device).exit_code, 0);
  EXPECT_TRUE(std::filesystem::is_character_file(device));

  std::filesystem::create_directory(dir_.path() + "/real");
  std::filesystem::create_symlink("real/programs.json", dir_.path() + "/link.json");
  ASSERT_EQ(with_output(dir_.path() + "/link.json").exit_code, 0);
  EXPECT_TRUE(std::filesystem::is_symlink(dir_.path() + "/link.json"));
  EXPECT_TRUE(nlohmann::json::parse(read_file(dir_.path() + "/real/programs.json")).contains("decode"));

  const std::string fifo = dir_.path() + "/logits.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::future<std::string> received = std::async(std::launch::async, [&fifo] { return read_file(fifo); });
  const CommandResult run = kiln({"run", model_.path("gguf"), "--prompt-ids", prompt_ids(), "-n", "1",
                                  "--dump-logits", fifo});
  if (run.exit_code != 0) std::ofstream(fifo) << "";  // lets the reader finish
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(received.get(), StartsWith("\x93NUMPY"));
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
}

TEST_F(LlamaCliTest, WriteErrorsAreErrors) {
  const CommandResult full = kiln_redirected({"run", model_.path("gguf"), "-p", "ab", "-n", "4"}, "/dev/full");
  EXPECT_EQ(full.exit_code, 1);
  EXPECT_THAT(full.err, HasSubstr("kiln run: cannot write to stdout: No space left on device"));
  EXPECT_EQ(kiln_redirected({"tokenize", model_.path("gguf"), "-p", "ab"}, "/dev/full").exit_code, 1);

  // An output that cannot be written is refused before the model runs.
  const std::string nowhere = dir_.path() + "/no_folder/logits.npy";
  const CommandResult dump = kiln({"run", model_.path("gguf"), "-p", "ab", "-n", "4", "--dump-logits", nowhere});
  EXPECT_EQ(dump.exit_code, 1);
  EXPECT_EQ(dump.out, "");
  EXPECT_THAT(dump.err, StartsWith(absl::StrCat("kiln run: --dump-logits ", nowhere, ": cannot create a file in ")));
  EXPECT_THAT(dump.err, Not(HasSubstr("prefill")));
  const CommandResult compile = kiln({"compile", model_.path("gguf"), "-o", dir_.path()});
  EXPECT_EQ(compile.exit_code, 1);
  EXPECT_THAT(compile.err, HasSubstr(": is a directory"));
}

TEST_F(LlamaCliTest, ThreadsAndVersion) {
  const std::vector<std::string> args = {"run", model_.path("hf"), "--prompt-ids", prompt_ids(), "-n", "3",
                                         "--temp", "0", "--ignore-eos", "-t"};
  for (const char* threads : {"1", "3"}) {
    std::vector<std::string> with = args;
    with.push_back(threads);
    const CommandResult result = kiln(with);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.out, StartsWith(absl::StrCat(model_.greedy[0], " ")));
  }
  std::vector<std::string> zero = args;
  zero.push_back("0");
  EXPECT_THAT(kiln(zero).err, HasSubstr("--threads 0 must be between 1 and 1024"));
  const CommandResult version = kiln({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out,
              ContainsRegex("^kiln [0-9]+\\.[0-9]+\\.[0-9]+ \\(git [^)]+\\)\nbackend plugin ABI [0-9]+\n$"));
}

// Ctrl-C reaches generation through this callback (tools/interrupt.h sets
// the flag it reads); generation stops there and still reports.
TEST_F(LlamaCliTest, InterruptedGenerationStopsAndReports) {
  absl::StatusOr<std::unique_ptr<Session>> session = Session::open(model_.path("gguf"), cpu_session(32, 4));
  ASSERT_TRUE(session.ok()) << session.status();
  GenerateOptions options;
  options.max_new_tokens = kUntilContextFull;
  options.stop_at_eos = false;
  options.sampling.temperature = 0;
  int asked = 0;
  GenerateCallbacks callbacks;
  callbacks.interrupted = [&asked] { return ++asked > 3; };
  absl::StatusOr<GenerationResult> result = generate(**session, model_.prompt, options, callbacks);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stop_reason, StopReason::interrupted);
  EXPECT_EQ(result->tokens, std::vector<int32_t>(model_.greedy.begin(), model_.greedy.begin() + 3));
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
