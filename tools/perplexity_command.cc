// `kiln perplexity MODEL -f TEXT`: the model's perplexity on a text file,
// by kiln's method or llama-perplexity's (runtime/perplexity.h).

#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/perplexity.h"
#include "runtime/progress_bar.h"
#include "tools/arg_parser.h"
#include "tools/commands.h"
#include "tools/model_options.h"
#include "tools/text_input.h"

namespace kiln::cli {
namespace {

ArgParser perplexity_parser() {
  ArgParser args("perplexity", "MODEL -f TEXT [--window N] [--llama-cpp-compatible] [options]",
                 "Reports a model's perplexity on a text file.\n\n"
                 "By default every token is scored once: the whole file (trailing newline\n"
                 "included) is tokenized without BOS/EOS; the ids are cut into consecutive windows\n"
                 "of N tokens, each run in a fresh context as [BOS] + window; every text token is\n"
                 "scored by -log p of it given BOS and the window's tokens before it (log-softmax\n"
                 "in f64). perplexity = exp(total / scored tokens). Without a BOS token, each\n"
                 "window's first token is not scored. This is how training frameworks report it.\n\n"
                 "--llama-cpp-compatible computes it as llama-perplexity does, so numbers can be\n"
                 "compared with llama.cpp's: the text is tokenized with BOS, cut into whole windows\n"
                 "of N tokens (the last partial one dropped), each window's first token replaced\n"
                 "by BOS, and only the second half of each window scored. It prints llama's\n"
                 "'Final estimate: PPL = x +/- y' line and needs at least 2N tokens.\n\n"
                 "A progress bar shows on stderr when it is a terminal.");
  add_model_argument(args);
  args.option("file", "f", "TEXT", "the text file; '-' reads stdin")
      .option("window", "w", "N",
              "tokens per window (default: the context, less 1 for BOS in kiln's method)")
      .flag("llama-cpp-compatible", "", "score as llama-perplexity does (see above)");
  add_session_options(args);
  return args;
}

absl::StatusOr<runtime::PerplexityResult> score(const ArgParser& args, runtime::Session& session,
                                                const frontend::Tokenizer& tokenizer, const std::string& text,
                                                int64_t window) {
  const bool llama = args.has("llama-cpp-compatible");
  const std::vector<int32_t> ids = tokenizer.encode(text, /*add_special=*/llama);
  std::optional<runtime::ProgressBar> bar;
  const runtime::PerplexityProgress progress = [&](int64_t, int64_t windows) {
    if (!bar) bar.emplace("perplexity", windows, runtime::ProgressBar::stderr_is_terminal());
    bar->advance(1);
  };
  if (llama) return runtime::llama_cpp_perplexity(session, ids, tokenizer.bos_id(), window, progress);
  return runtime::perplexity(session, ids, tokenizer.bos_id(), window, progress);
}

absl::Status run_perplexity(const ArgParser& args) {
  absl::StatusOr<std::string> model = model_argument(args);
  if (!model.ok()) return model.status();
  if (!args.has("file")) return absl::InvalidArgumentError("missing -f TEXT; see kiln perplexity --help");
  absl::StatusOr<std::string> text = read_text_input(args.get("file"));
  if (!text.ok()) return text.status();
  int64_t window = 0;
  if (args.has("window")) {
    absl::StatusOr<int64_t> value = args.get_int("window");
    if (!value.ok()) return value.status();
    window = *value;
  }
  absl::StatusOr<runtime::SessionOptions> options = session_options(args);
  if (!options.ok()) return options.status();
  options->programs.all_logits = true;  // every position is scored
  absl::StatusOr<std::unique_ptr<runtime::Session>> session = runtime::Session::open(*model, *options);
  if (!session.ok()) return session.status();
  absl::StatusOr<const frontend::Tokenizer*> tokenizer = (*session)->tokenizer();
  if (!tokenizer.ok()) return tokenizer.status();
  absl::StatusOr<runtime::PerplexityResult> result = score(args, **session, **tokenizer, *text, window);
  if (!result.ok()) return result.status();
  if (args.has("llama-cpp-compatible")) {
    std::cout << absl::StrFormat("%d windows of %d tokens, %d scored\nFinal estimate: PPL = %.4f +/- %.5f\n",
                                 result->windows, result->window_tokens, result->scored_tokens, result->perplexity,
                                 result->uncertainty);
  } else {
    std::cout << absl::StrFormat(
        "perplexity %.6f over %d tokens (mean NLL %.6f nats; %d windows of up to %d tokens)\n", result->perplexity,
        result->scored_tokens, result->mean_nll, result->windows, result->window_tokens);
  }
  return report_profile(args, **session);
}

}  // namespace

int perplexity_command(std::span<char*> argv) {
  ArgParser args = perplexity_parser();
  return command_main(args, argv, run_perplexity);
}

}  // namespace kiln::cli
