// `kiln tokenize PATH (-p TEXT | -f FILE | --decode IDS)`: the token ids of a
// text, or the text of token ids, with the tokenizer of a GGUF file, a
// Hugging Face folder or a tokenizer.json.

#include <charconv>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "frontend/tokenizer_loader.h"
#include "tools/arg_parser.h"
#include "tools/commands.h"
#include "tools/model_argument.h"
#include "tools/text_input.h"

namespace kiln::cli {
namespace {

// "1 2 3" (as encode prints them), "1,2,3", "1, 2, 3" or "[1, 2, 3]"
// (llama-tokenize --ids).
absl::StatusOr<std::vector<int32_t>> parse_ids(const std::string& list) {
  absl::string_view text = absl::StripAsciiWhitespace(list);
  if (absl::ConsumePrefix(&text, "[") && !absl::ConsumeSuffix(&text, "]")) {
    return absl::InvalidArgumentError("--decode: '[' without a closing ']'");
  }
  std::vector<int32_t> ids;
  for (absl::string_view token : absl::StrSplit(text, absl::ByAnyChar(", \t\n"), absl::SkipEmpty())) {
    int32_t id = 0;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), id);
    if (error != std::errc() || end != token.data() + token.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--decode: '", token, "' is not a token id (expected ids separated by spaces or commas)"));
    }
    ids.push_back(id);
  }
  if (ids.empty()) return absl::InvalidArgumentError("--decode: no ids given");
  return ids;
}

absl::Status decode(const frontend::Tokenizer& tokenizer, const std::string& list) {
  absl::StatusOr<std::vector<int32_t>> ids = parse_ids(list);
  if (!ids.ok()) return ids.status();
  // Special tokens are shown, so that the text says everything the ids do.
  absl::StatusOr<std::string> text =
      tokenizer.decode(*ids, frontend::DecodeOptions{.render_special = true});
  if (!text.ok()) return text.status();
  std::cout << *text << "\n";
  return absl::OkStatus();
}

absl::Status encode(const frontend::Tokenizer& tokenizer, const ArgParser& args) {
  std::string text = args.get("prompt");
  if (args.has("file")) {
    absl::StatusOr<std::string> file_text = read_text_input(args.get("file"));
    if (!file_text.ok()) return file_text.status();
    text = *std::move(file_text);
  }
  const std::vector<int32_t> ids =
      tokenizer.encode(text, frontend::EncodeOptions{.add_special = args.has("add-special"),
                                                     .parse_special = !args.has("no-parse-special")});
  if (args.has("count")) {
    std::cout << ids.size() << "\n";
  } else if (args.has("show-pieces")) {
    // The bytes each token stands for, as llama-tokenize shows them.
    for (int32_t id : ids) std::cout << id << " -> '" << tokenizer.token_bytes(id) << "'\n";
  } else {
    std::cout << absl::StrJoin(ids, " ") << "\n";
  }
  return absl::OkStatus();
}

absl::Status run_tokenize(const ArgParser& args) {
  const int inputs = args.has("prompt") + args.has("file") + args.has("decode");
  if (inputs != 1) {
    return absl::InvalidArgumentError("give one of -p TEXT, -f FILE or --decode IDS");
  }
  if (args.has("show-pieces") && args.has("count")) {
    return absl::InvalidArgumentError("--show-pieces and --count print different things; give one");
  }
  if (args.has("decode") && (args.has("show-pieces") || args.has("count"))) {
    return absl::InvalidArgumentError("--show-pieces and --count describe an encoding, not --decode");
  }
  absl::StatusOr<std::string> path = model_argument(args);
  if (!path.ok()) return path.status();
  absl::StatusOr<frontend::Tokenizer> tokenizer = frontend::load_tokenizer(*path);
  if (!tokenizer.ok()) return tokenizer.status();
  if (args.has("decode")) return decode(*tokenizer, args.get("decode"));
  return encode(*tokenizer, args);
}

}  // namespace

int tokenize_command(std::span<char*> argv) {
  ArgParser args("tokenize", "PATH (-p TEXT | -f FILE | --decode IDS) [--add-special] [--show-pieces | --count]",
                 "Prints the token ids of a text on one line, separated by spaces (which --decode\n"
                 "reads back), or the text of token ids, with the tokenizer of a GGUF file, a\n"
                 "Hugging Face folder or a tokenizer.json.");
  add_model_argument(args, "PATH");
  args.option("prompt", "p", "TEXT", "the text to encode")
      .option("file", "f", "FILE", "encode the contents of FILE ('-': stdin)")
      .option("decode", "", "IDS", "print the text of the ids, separated by spaces or commas ('[1, 2]' too)")
      .flag("add-special", "", "add BOS/EOS as the tokenizer asks for them")
      .flag("no-parse-special", "", "spell out special tokens written in the text")
      .flag("show-pieces", "", "print one token a line, as id -> 'the text it stands for'")
      .flag("count", "", "print only the number of tokens");
  return command_main(args, argv, run_tokenize);
}

}  // namespace kiln::cli
