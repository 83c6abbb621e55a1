// `kiln chat MODEL`: a multi-turn conversation, one user turn per line of
// stdin, formatted by the model's chat template (frontend/chat_template.h).
// The KV cache carries the conversation: each turn feeds only its own
// tokens after what the context already holds.

#include <unistd.h>

#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "frontend/chat_template.h"
#include "runtime/generator.h"
#include "runtime/session.h"
#include "tools/arg_parser.h"
#include "tools/commands.h"
#include "tools/interrupt.h"
#include "tools/model_options.h"
#include "tools/standard_output.h"
#include "tools/text_input.h"

namespace kiln::cli {
namespace {

std::string template_help() {
  std::string text = "chat templates (--chat-template NAME):\n";
  for (const frontend::ChatTemplateRow& row : frontend::chat_template_rows()) {
    absl::StrAppend(&text, absl::StrFormat("  %-10s %s\n", std::string(row.name), std::string(row.models)));
  }
  return text;
}

ArgParser chat_parser() {
  ArgParser args("chat", "MODEL [--system TEXT] [-n N] [options]",
                 "A conversation with a chat model. Each line of stdin is one user turn; the\n"
                 "reply streams to stdout. On a terminal kiln prompts with '> '; Ctrl-C stops a\n"
                 "reply, Ctrl-D (end of input) ends the chat. The turns are formatted by the\n"
                 "model's chat template (GGUF tokenizer.chat_template, or the HF folder's\n"
                 "tokenizer_config.json / chat_template.jinja), recognised by family; the\n"
                 "conversation stays in the KV cache, so each turn feeds only its own tokens.");
  add_model_argument(args);
  args.option("system", "", "TEXT", "the system prompt")
      .option("system-file", "", "FILE", "read the system prompt from FILE")
      .option("chat-template", "", "NAME", "format turns as NAME instead of the model's template (see below)")
      .option("n-predict", "n", "N", "tokens per reply at most; -1: until the end of the turn or a full context",
              "512")
      .flag("verbose", "v", "after each reply, print its position, fed tokens and speed to stderr");
  add_session_options(args);
  add_sampling_options(args);
  args.epilogue(template_help());
  return args;
}

absl::StatusOr<std::string> system_prompt(const ArgParser& args) {
  if (args.has("system") && args.has("system-file")) {
    return absl::InvalidArgumentError("give the system prompt as --system TEXT or --system-file FILE, not both");
  }
  if (args.has("system-file")) return read_text_input(args.get("system-file"));
  return args.get("system");
}

// The row for this model: --chat-template NAME, else the one recognised in
// the model's own template.
absl::StatusOr<const frontend::ChatTemplateRow*> template_row(const ArgParser& args, const std::string& model) {
  if (args.has("chat-template")) {
    const frontend::ChatTemplateRow* row = frontend::find_chat_template_row(args.get("chat-template"));
    if (row != nullptr) return row;
    std::vector<std::string> names;
    for (const frontend::ChatTemplateRow& known : frontend::chat_template_rows()) names.emplace_back(known.name);
    return absl::InvalidArgumentError(absl::StrCat("--chat-template '", args.get("chat-template"),
                                                   "' is not a template kiln knows (", absl::StrJoin(names, ", "),
                                                   ")"));
  }
  absl::StatusOr<std::optional<std::string>> text = frontend::read_chat_template(model);
  if (!text.ok()) return text.status();
  if (!text->has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(model, " has no chat template; choose one with --chat-template NAME (see --help)"));
  }
  return frontend::recognise_chat_template(**text);
}

struct Conversation {
  runtime::Session& session;
  const frontend::Tokenizer& tokenizer;
  const frontend::ChatFormatter& formatter;
  runtime::GenerateOptions options;
  std::string system;
  bool verbose = false;
  int64_t turns = 0;
  std::vector<int32_t> unfed;  // the last reply's tokens not yet in the KV cache
};

void report_turn(const Conversation& chat, int64_t position, const runtime::GenerationResult& result) {
  const auto rate = [](int64_t tokens, double seconds) { return seconds > 0 ? tokens / seconds : 0.0; };
  std::cerr << absl::StrFormat(
      "kiln chat: turn %d | position %d | fed %d tokens, %.1f tok/s | reply %d tokens, %.1f tok/s | stop: %s\n",
      chat.turns, position, result.prompt_tokens, rate(result.prompt_tokens, result.prefill_seconds),
      static_cast<int64_t>(result.tokens.size()), rate(result.decode_steps, result.decode_seconds),
      std::string(runtime::stop_reason_name(result.stop_reason)));
}

// One user turn: its tokens after what the context holds, then the reply.
absl::Status chat_turn(Conversation& chat, const std::string& line) {
  std::vector<int32_t> ids = std::move(chat.unfed);
  const std::string text = chat.formatter.turn(line, chat.system, chat.turns == 0);
  const std::vector<int32_t> turn =
      chat.tokenizer.encode(text, frontend::EncodeOptions{.add_special = false, .parse_special = true});
  ids.insert(ids.end(), turn.begin(), turn.end());
  const int64_t position = chat.session.position();
  const int64_t room = chat.session.context() - position - static_cast<int64_t>(ids.size());
  if (room < 1) {
    return absl::OutOfRangeError(absl::StrCat("turn ", chat.turns + 1, " (", ids.size(),
                                              " tokens) does not fit: the context of ", chat.session.context(),
                                              " tokens holds ", position, " already; raise --ctx"));
  }
  runtime::GenerateOptions options = chat.options;
  if (options.max_new_tokens == runtime::kUntilContextFull || options.max_new_tokens > room) {
    options.max_new_tokens = room;
  }
  bool started = false;
  runtime::GenerateCallbacks callbacks;
  callbacks.on_text = [&started](std::string_view piece) {
    if (!started) piece.remove_prefix(std::min(piece.find_first_not_of(' '), piece.size()));
    started = started || !piece.empty();
    print_flushed(piece);
  };
  callbacks.interrupted = [] { return InterruptScope::requested(); };
  absl::StatusOr<runtime::GenerationResult> result;
  {
    const InterruptScope interrupt_scope;
    result = runtime::generate(chat.session, ids, options, callbacks);
  }
  if (!result.ok()) return result.status();
  print_flushed("\n");
  ++chat.turns;
  chat.unfed.assign(result->tokens.begin() + result->decode_steps, result->tokens.end());
  if (chat.verbose) report_turn(chat, position, *result);
  return stdout_status();
}

absl::Status chat(const ArgParser& args) {
  absl::StatusOr<std::string> model = model_argument(args);
  if (!model.ok()) return model.status();
  absl::StatusOr<std::string> system = system_prompt(args);
  if (!system.ok()) return system.status();
  absl::StatusOr<const frontend::ChatTemplateRow*> row = template_row(args, *model);
  if (!row.ok()) return row.status();
  absl::StatusOr<int64_t> count = args.get_int("n-predict");
  if (!count.ok()) return count.status();
  if (*count < 1 && *count != runtime::kUntilContextFull) {
    return absl::InvalidArgumentError(absl::StrCat("-n ", *count, " must be >= 1, or -1 for no limit"));
  }
  absl::StatusOr<runtime::SamplingOptions> sampling = sampling_options(args);
  if (!sampling.ok()) return sampling.status();
  absl::StatusOr<runtime::SessionOptions> session_opts = session_options(args);
  if (!session_opts.ok()) return session_opts.status();
  session_opts->sampling = *sampling;
  absl::StatusOr<std::unique_ptr<runtime::Session>> session = runtime::Session::open(*model, *session_opts);
  if (!session.ok()) return session.status();
  absl::StatusOr<const frontend::Tokenizer*> tokenizer = (*session)->tokenizer();
  if (!tokenizer.ok()) return tokenizer.status();
  absl::StatusOr<frontend::ChatFormatter> formatter = frontend::ChatFormatter::create(**row, **tokenizer);
  if (!formatter.ok()) return formatter.status();

  runtime::GenerateOptions options;
  options.max_new_tokens = *count;
  options.sampling = *sampling;
  options.stop_tokens = formatter->end_of_turn_ids();
  options.continue_context = true;
  Conversation conversation{.session = **session,
                            .tokenizer = **tokenizer,
                            .formatter = *formatter,
                            .options = std::move(options),
                            .system = *std::move(system),
                            .verbose = args.has("verbose"),
                            .turns = 0,
                            .unfed = {}};
  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  std::string line;
  while (true) {
    if (terminal) print_flushed("> ");
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    if (absl::Status s = chat_turn(conversation, line); !s.ok()) return s;
  }
  if (std::cin.bad()) return absl::DataLossError("stdin: read failed");
  std::cerr << absl::StrFormat("kiln chat: load %.2f s | %d turns | template %s | seed %d\n",
                               (*session)->load_seconds(), conversation.turns, std::string((*row)->name),
                               sampling->seed);
  return absl::OkStatus();
}

}  // namespace

int chat_command(std::span<char*> argv) {
  ArgParser args = chat_parser();
  return command_main(args, argv, chat);
}

}  // namespace kiln::cli
