// `kiln tokenize PATH (-p TEXT | -f FILE | --decode IDS)`: the token ids of a
// text, or the text of token ids, with the tokenizer of a GGUF file, a
// Hugging Face folder or a tokenizer.json.

#include <charconv>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "frontend/tokenizer_loader.h"
#include "tools/arg_parser.h"
#include "tools/commands.h"

namespace kiln::cli {
namespace {

// "1,2,3" (spaces around the commas are fine).
absl::StatusOr<std::vector<int32_t>> parse_ids(const std::string& list) {
  std::vector<int32_t> ids;
  for (absl::string_view field : absl::StrSplit(list, ',')) {
    const absl::string_view token = absl::StripAsciiWhitespace(field);
    int32_t id = 0;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), id);
    if (token.empty() || error != std::errc() || end != token.data() + token.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--decode: '", token, "' is not a token id (expected 1,2,3)"));
    }
    ids.push_back(id);
  }
  return ids;
}

absl::StatusOr<std::string> read_text_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream text;
  text << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return text.str();
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
    absl::StatusOr<std::string> file_text = read_text_file(args.get("file"));
    if (!file_text.ok()) return file_text.status();
    text = *std::move(file_text);
  }
  const std::vector<int32_t> ids =
      tokenizer.encode(text, frontend::EncodeOptions{.add_special = args.has("add-special"),
                                                     .parse_special = !args.has("no-parse-special")});
  std::cout << absl::StrJoin(ids, " ") << "\n";
  return absl::OkStatus();
}

absl::Status run_tokenize(const ArgParser& args) {
  const int inputs = args.has("prompt") + args.has("file") + args.has("decode");
  if (inputs != 1) {
    return absl::InvalidArgumentError("give one of -p TEXT, -f FILE or --decode IDS");
  }
  absl::StatusOr<frontend::Tokenizer> tokenizer = frontend::load_tokenizer(args.positional_value(0));
  if (!tokenizer.ok()) return tokenizer.status();
  if (args.has("decode")) return decode(*tokenizer, args.get("decode"));
  return encode(*tokenizer, args);
}

}  // namespace

int tokenize_command(std::span<char*> argv) {
  ArgParser args("tokenize", "PATH (-p TEXT | -f FILE | --decode IDS) [--add-special]",
                 "Prints the token ids of a text on one line, or the text of token ids, with the\n"
                 "tokenizer of a GGUF file, a Hugging Face folder or a tokenizer.json.");
  args.positional("PATH", "a .gguf file, a model folder with tokenizer.json, or a tokenizer.json")
      .option("prompt", "p", "TEXT", "the text to encode")
      .option("file", "f", "FILE", "encode the contents of FILE")
      .option("decode", "", "IDS", "print the text of the comma-separated ids")
      .flag("add-special", "", "add BOS/EOS as the tokenizer asks for them")
      .flag("no-parse-special", "", "spell out special tokens written in the text");
  return command_main(args, argv, run_tokenize);
}

}  // namespace kiln::cli
