// `kiln perplexity MODEL -f TEXT`: the model's perplexity on a text file,
// computed as runtime/perplexity.h describes.

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/perplexity.h"
#include "tools/arg_parser.h"
#include "tools/commands.h"
#include "tools/model_options.h"

namespace kiln::cli {
namespace {

ArgParser perplexity_parser() {
  ArgParser args("perplexity", "MODEL -f TEXT [--window N] [options]",
                 "Reports a model's perplexity on a text file. The whole file (trailing newline\n"
                 "included) is tokenized without BOS/EOS; the ids are cut into consecutive windows\n"
                 "of N tokens, each run in a fresh context as [BOS] + window; every text token is\n"
                 "scored once, by -log p of it given BOS and the window's tokens before it\n"
                 "(log-softmax in f64). perplexity = exp(total / scored tokens). Without a BOS\n"
                 "token, each window's first token is not scored.");
  args.positional("MODEL", "a .gguf file or a Hugging Face model folder")
      .option("file", "f", "TEXT", "the text file")
      .option("window", "w", "N", "text tokens per window (default: the context - 1 for BOS)");
  add_session_options(args);
  return args;
}

absl::StatusOr<std::string> read_text(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

absl::Status run_perplexity(const ArgParser& args) {
  if (!args.has("file")) return absl::InvalidArgumentError("missing -f TEXT; see kiln perplexity --help");
  absl::StatusOr<std::string> text = read_text(args.get("file"));
  if (!text.ok()) return text.status();
  int64_t window = 0;
  if (args.has("window")) {
    absl::StatusOr<int64_t> value = args.get_int("window");
    if (!value.ok()) return value.status();
    window = *value;
  }
  absl::StatusOr<runtime::SessionOptions> options = session_options(args);
  if (!options.ok()) return options.status();
  absl::StatusOr<std::unique_ptr<runtime::Session>> session = runtime::Session::open(args.positional_value(0), *options);
  if (!session.ok()) return session.status();
  absl::StatusOr<const frontend::Tokenizer*> tokenizer = (*session)->tokenizer();
  if (!tokenizer.ok()) return tokenizer.status();
  const std::vector<int32_t> ids = (*tokenizer)->encode(*text, /*add_special=*/false);
  absl::StatusOr<runtime::PerplexityResult> result =
      runtime::perplexity(**session, ids, (*tokenizer)->bos_id(), window);
  if (!result.ok()) return result.status();
  std::cout << absl::StrFormat("perplexity %.6f over %d tokens (mean NLL %.6f nats; %d windows of up to %d tokens)\n",
                               result->perplexity, result->scored_tokens, result->mean_nll, result->windows,
                               result->window_tokens);
  return absl::OkStatus();
}

}  // namespace

int perplexity_command(std::span<char*> argv) {
  ArgParser args = perplexity_parser();
  return command_main(args, argv, run_perplexity);
}

}  // namespace kiln::cli
