// `kiln run MODEL -p TEXT -n N ...`: streams generated text to stdout and
// timing to stderr.

#include "tools/run_model.h"

#include <charconv>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "frontend/atomic_write.h"
#include "frontend/npy.h"
#include "runtime/generator.h"
#include "runtime/session.h"
#include "tools/arg_parser.h"
#include "tools/interrupt.h"
#include "tools/model_options.h"
#include "tools/standard_output.h"
#include "tools/text_input.h"

namespace kiln::cli {
namespace {

ArgParser run_model_parser() {
  ArgParser args("run", "MODEL (-p TEXT | -f FILE | --prompt-ids IDS) [-n N] [options]",
                 "Generates text from a model (a GGUF file or an HF folder) and streams it to\n"
                 "stdout as it is generated; load time, prefill and decode speed and the seed go to\n"
                 "stderr. The prompt is encoded with the model's tokenizer, BOS added as the model\n"
                 "asks. Ctrl-C stops generation and still reports; a second Ctrl-C kills kiln.");
  add_model_argument(args);
  args.option("prompt", "p", "TEXT", "the prompt; '-' reads it from stdin")
      .option("file", "f", "FILE", "read the prompt from FILE")
      .option("prompt-ids", "", "IDS", "the prompt as token ids, comma-separated (used as given: no BOS added)")
      .option("n-predict", "n", "N", "how many tokens to generate at most; -1: until EOS or the context is full",
              "128")
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

// The prompt as text (-p TEXT, -p - for stdin, -f FILE), or nullopt for
// --prompt-ids; read before the model loads, so a wrong path fails fast.
absl::StatusOr<std::optional<std::string>> prompt_text(const ArgParser& args) {
  if (args.has("prompt") + args.has("file") + args.has("prompt-ids") != 1) {
    return absl::InvalidArgumentError("give the prompt as -p TEXT, -f FILE or --prompt-ids IDS (one of them)");
  }
  if (args.has("prompt-ids")) return std::nullopt;
  if (args.has("file")) return read_text_input(args.get("file"));
  if (args.get("prompt") == "-") return read_text_input("-");
  return args.get("prompt");
}

absl::StatusOr<std::vector<int32_t>> prompt_ids(const ArgParser& args, const std::optional<std::string>& text,
                                                const runtime::Session& session) {
  if (!text) return parse_ids(args.get("prompt-ids"));
  absl::StatusOr<const frontend::Tokenizer*> tokenizer = session.tokenizer();
  if (!tokenizer.ok()) return tokenizer.status();
  return (*tokenizer)->encode(*text, /*add_special=*/true);
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

void report_timing(const runtime::Session& session, const runtime::GenerationResult& result, uint64_t seed) {
  const auto rate = [](int64_t tokens, double seconds) { return seconds > 0 ? tokens / seconds : 0.0; };
  if (result.stop_reason == runtime::StopReason::context_full) {
    std::cerr << absl::StrFormat("\nkiln run: the context of %d tokens is full; generation stopped (see --ctx)",
                                 session.context());
  }
  std::cerr << absl::StrFormat(
      "\nkiln run: load %.2f s | prefill %d tokens, %.1f tok/s | decode %d tokens, %.1f tok/s | stop: %s | "
      "seed %d\n",
      session.load_seconds(), result.prompt_tokens, rate(result.prompt_tokens, result.prefill_seconds),
      result.decode_steps, rate(result.decode_steps, result.decode_seconds),
      std::string(runtime::stop_reason_name(result.stop_reason)), seed);
}

absl::Status run_model(const ArgParser& args) {
  absl::StatusOr<std::string> model = model_argument(args);
  if (!model.ok()) return model.status();
  absl::StatusOr<runtime::GenerateOptions> options = generate_options(args);
  if (!options.ok()) return options.status();
  absl::StatusOr<runtime::SessionOptions> session_opts = session_options(args);
  if (!session_opts.ok()) return session_opts.status();
  // The Programs end in the sampling op for these settings; --dump-logits
  // needs every prompt row's logits instead.
  session_opts->sampling = options->sampling;
  session_opts->programs.all_logits = args.has("dump-logits");
  if (args.has("dump-logits")) {
    if (absl::Status s = frontend::check_writable(args.get("dump-logits")); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("--dump-logits ", s.message()));
    }
  }
  absl::StatusOr<std::optional<std::string>> text = prompt_text(args);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::unique_ptr<runtime::Session>> session = runtime::Session::open(*model, *session_opts);
  if (!session.ok()) return session.status();
  absl::StatusOr<std::vector<int32_t>> prompt = prompt_ids(args, *text, **session);
  if (!prompt.ok()) return prompt.status();

  // -p text is echoed (generation continues it) once generation has begun,
  // so that a prompt refused for its length leaves stdout empty.
  bool echoed = !text->has_value();
  bool stdout_failed = false;
  const auto echo_prompt = [&] {
    if (!echoed) stdout_failed |= !print_flushed(**text);
    echoed = true;
  };
  std::vector<float> dumped;
  runtime::GenerateCallbacks callbacks;
  const bool has_tokenizer = (*session)->tokenizer().ok();
  if (has_tokenizer) {
    callbacks.on_text = [&](std::string_view piece) {
      echo_prompt();
      stdout_failed |= !print_flushed(piece);
    };
  }
  if (args.has("dump-logits")) {
    callbacks.on_logits = [&dumped](std::span<const float> rows, int64_t) {
      dumped.insert(dumped.end(), rows.begin(), rows.end());
    };
  }
  callbacks.interrupted = [&stdout_failed] { return stdout_failed || InterruptScope::requested(); };
  const InterruptScope interrupt_scope;
  absl::StatusOr<runtime::GenerationResult> result = runtime::generate(**session, *prompt, *options, callbacks);
  if (!result.ok()) return result.status();
  echo_prompt();
  if (!has_tokenizer) {  // a model without a vocabulary: the ids are the output
    for (int32_t id : result->tokens) std::cout << id << " ";
  }
  std::cout << "\n" << std::flush;
  report_timing(**session, *result, options->sampling.seed);
  if (absl::Status s = report_profile(args, **session); !s.ok()) return s;
  if (args.has("dump-logits")) {
    const int64_t vocab = (*session)->vocab_size();
    if (absl::Status s = frontend::write_npy(args.get("dump-logits"), ir::DType::f32,
                                             {static_cast<int64_t>(dumped.size()) / vocab, vocab}, dumped.data());
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = stdout_status(); !s.ok()) return s;
  if (InterruptScope::requested()) return absl::CancelledError("interrupted by Ctrl-C");
  return absl::OkStatus();
}

}  // namespace

int run_model_command(std::span<char*> argv) {
  ArgParser args = run_model_parser();
  return command_main(args, argv, run_model);
}

}  // namespace kiln::cli
