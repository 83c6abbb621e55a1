// `kiln run MODEL -p TEXT -n N ...`: streams generated text to stdout and
// timing to stderr.

#include "tools/run_model.h"

#include <charconv>
#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "frontend/npy.h"
#include "runtime/generator.h"
#include "runtime/session.h"
#include "tools/arg_parser.h"
#include "tools/model_options.h"

namespace kiln::cli {
namespace {

ArgParser run_model_parser() {
  ArgParser args("run", "MODEL (-p TEXT | --prompt-ids IDS) [-n N] [options]",
                 "Generates text from a model (a .gguf file or an HF folder) and streams it to\n"
                 "stdout as it is generated; load time, prefill and decode speed go to stderr.\n"
                 "The prompt is encoded with the model's tokenizer, BOS added as the model asks.");
  args.positional("MODEL", "a .gguf file or a Hugging Face model folder")
      .option("prompt", "p", "TEXT", "the prompt")
      .option("prompt-ids", "", "IDS", "the prompt as token ids, comma-separated (used as given: no BOS added)")
      .option("n-predict", "n", "N", "how many tokens to generate at most", "128")
      .option("stop", "", "STR", "stop when the text contains STR, which is not printed (repeatable)", "", true)
      .flag("ignore-eos", "", "keep generating past the end-of-sequence token")
      .option("dump-logits", "", "FILE.npy",
              "write float32 logits [rows, vocab], one row per token fed: the prompt's tokens, then each "
              "generated token fed back");
  add_session_options(args);
  add_sampling_options(args);
  return args;
}

absl::StatusOr<std::vector<int32_t>> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    int32_t id = 0;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), id);
    if (error != std::errc() || end != part.data() + part.size()) {
      return absl::InvalidArgumentError(absl::StrCat("--prompt-ids: '", part, "' is not a token id"));
    }
    ids.push_back(id);
  }
  if (ids.empty()) return absl::InvalidArgumentError("--prompt-ids: no ids given");
  return ids;
}

// The prompt's ids, echoing -p text to stdout (generation continues it).
absl::StatusOr<std::vector<int32_t>> prompt_ids(const ArgParser& args, const runtime::Session& session) {
  if (args.has("prompt") == args.has("prompt-ids")) {
    return absl::InvalidArgumentError("give the prompt as -p TEXT or as --prompt-ids IDS (one of them)");
  }
  if (args.has("prompt-ids")) return parse_ids(args.get("prompt-ids"));
  absl::StatusOr<const frontend::Tokenizer*> tokenizer = session.tokenizer();
  if (!tokenizer.ok()) return tokenizer.status();
  std::cout << args.get("prompt") << std::flush;
  return (*tokenizer)->encode(args.get("prompt"), /*add_special=*/true);
}

absl::StatusOr<runtime::GenerateOptions> generate_options(const ArgParser& args) {
  runtime::GenerateOptions options;
  absl::StatusOr<int64_t> count = args.get_int("n-predict");
  if (!count.ok()) return count.status();
  options.max_new_tokens = *count;
  absl::StatusOr<runtime::SamplingOptions> sampling = sampling_options(args);
  if (!sampling.ok()) return sampling.status();
  options.sampling = *sampling;
  options.stop = args.get_all("stop");
  options.stop_at_eos = !args.has("ignore-eos");
  return options;
}

void report_timing(const runtime::Session& session, const runtime::GenerationResult& result) {
  const auto rate = [](int64_t tokens, double seconds) { return seconds > 0 ? tokens / seconds : 0.0; };
  std::cerr << absl::StrFormat(
      "\nkiln run: load %.2f s | prefill %d tokens, %.1f tok/s | decode %d tokens, %.1f tok/s | stop: %s\n",
      session.load_seconds(), result.prompt_tokens, rate(result.prompt_tokens, result.prefill_seconds),
      result.decode_steps, rate(result.decode_steps, result.decode_seconds),
      std::string(runtime::stop_reason_name(result.stop_reason)));
}

absl::Status run_model(const ArgParser& args) {
  absl::StatusOr<runtime::GenerateOptions> options = generate_options(args);
  if (!options.ok()) return options.status();
  absl::StatusOr<runtime::SessionOptions> session_opts = session_options(args);
  if (!session_opts.ok()) return session_opts.status();
  absl::StatusOr<std::unique_ptr<runtime::Session>> session =
      runtime::Session::open(args.positional_value(0), *session_opts);
  if (!session.ok()) return session.status();
  absl::StatusOr<std::vector<int32_t>> prompt = prompt_ids(args, **session);
  if (!prompt.ok()) return prompt.status();
  std::vector<float> dumped;
  runtime::GenerateCallbacks callbacks;
  const bool has_tokenizer = (*session)->tokenizer().ok();
  if (has_tokenizer) callbacks.on_text = [](std::string_view text) { std::cout << text << std::flush; };
  if (args.has("dump-logits")) {
    callbacks.on_logits = [&dumped](std::span<const float> rows, int64_t) {
      dumped.insert(dumped.end(), rows.begin(), rows.end());
    };
  }
  absl::StatusOr<runtime::GenerationResult> result = runtime::generate(**session, *prompt, *options, callbacks);
  if (!result.ok()) return result.status();
  if (!has_tokenizer) {  // a model without a vocabulary: the ids are the output
    for (int32_t id : result->tokens) std::cout << id << " ";
  }
  std::cout << "\n" << std::flush;
  report_timing(**session, *result);
  if (!args.has("dump-logits")) return absl::OkStatus();
  const int64_t vocab = (*session)->vocab_size();
  return frontend::write_npy(args.get("dump-logits"), ir::DType::f32,
                             {static_cast<int64_t>(dumped.size()) / vocab, vocab}, dumped.data());
}

}  // namespace

int run_model_command(std::span<char*> argv) {
  ArgParser args = run_model_parser();
  return command_main(args, argv, run_model);
}

}  // namespace kiln::cli
