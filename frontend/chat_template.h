#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "frontend/tokenizer.h"

namespace kiln::frontend {

// Chat templates as data. A model ships its template as Jinja text (GGUF
// `tokenizer.chat_template`, tokenizer_config.json's `chat_template`); kiln
// runs no Jinja: it recognises the family by distinctive substrings of that
// text and formats turns from the family's row (chat_template.cc), which
// renders exactly what the family's Jinja renders for plain system, user
// and assistant messages.

enum class ChatRole : uint8_t { system, user, assistant };

struct ChatMessage {
  ChatRole role;
  std::string content;
};

// One template family. Patterns hold {bos} and {eos} (the tokenizer's BOS
// and EOS pieces), {content} (the message) and, in user_with_system,
// {system}; nothing else in them is special, and message text is never
// scanned for placeholders.
struct ChatTemplateRow {
  std::string_view name;    // what --chat-template takes: "llama3"
  std::string_view models;  // for --help: which models use it
  // Every one must occur in the template text for the row to match; rows
  // are tried in table order, so a row whose markers include another's
  // comes first.
  std::vector<std::string_view> markers;
  std::string_view start;   // once, before the first message
  // A system message; empty where the family folds the system prompt into
  // the first user message through user_with_system.
  std::string_view system;
  std::string_view user;
  std::string_view user_with_system;
  // What the model generates, as the template renders a known reply.
  std::string_view assistant;
  std::string_view assistant_prefix;  // the generation prompt
  std::string_view assistant_suffix;  // after a reply: begins with the end-of-turn token
  // Pieces that end a reply besides EOS ("<|eot_id|>"); "{eos}" is EOS.
  std::vector<std::string_view> end_of_turn;
  // The system prompt used when none is given (Qwen2's), or empty.
  std::string_view default_system;
  bool trim_content = false;  // the template strips each message (| trim)
};

// The rows kiln knows, in matching order.
std::span<const ChatTemplateRow> chat_template_rows();
const ChatTemplateRow* find_chat_template_row(std::string_view name);

// The row whose markers all occur in `template_text`. Fails naming the
// template (its first ~60 characters, escaped) and pointing at
// --chat-template NAME.
absl::StatusOr<const ChatTemplateRow*> recognise_chat_template(std::string_view template_text);

// The chat template text a model carries, or nullopt when it has none:
// GGUF `tokenizer.chat_template`; in an HF folder, chat_template.jinja or
// tokenizer_config.json's `chat_template` (a string, or a list of named
// templates, of which "default" is taken). `model_path` is read as
// locate_model() reads it.
absl::StatusOr<std::optional<std::string>> read_chat_template(const std::string& model_path);

// Formats a conversation for one model: a row bound to a tokenizer.
class ChatFormatter {
 public:
  // Fails when the tokenizer lacks a token the row needs (BOS, EOS, an
  // end-of-turn piece), naming the row and the token.
  static absl::StatusOr<ChatFormatter> create(const ChatTemplateRow& row, const Tokenizer& tokenizer);

  // The text of `messages` as the template renders it, with the generation
  // prompt after them when `add_generation_prompt`. A system message may
  // only come first.
  absl::StatusOr<std::string> render(std::span<const ChatMessage> messages, bool add_generation_prompt) const;

  // What one user turn adds to a conversation whose earlier turns are in the
  // model's context, ending in the generation prompt: the end of the
  // previous reply (its suffix; the reply itself is the model's own tokens)
  // or, on the first turn, the start and the system prompt (`system`, or
  // the row's default when empty). render() of the whole conversation is
  // the concatenation of these turns with each reply in between.
  std::string turn(std::string_view user, std::string_view system, bool first) const;

  // Ids that end a reply (end-of-turn pieces and EOS).
  const std::vector<int32_t>& end_of_turn_ids() const { return end_of_turn_ids_; }
  const ChatTemplateRow& row() const { return *row_; }

 private:
  ChatFormatter(const ChatTemplateRow& row, std::string bos, std::string eos, std::vector<int32_t> end_ids)
      : row_(&row), bos_(std::move(bos)), eos_(std::move(eos)), end_of_turn_ids_(std::move(end_ids)) {}
  std::string fill(std::string_view pattern, std::string_view content, std::string_view system = {}) const;
  std::string user_text(std::string_view user, std::string_view system) const;
  std::string system_text(std::string_view system) const;

  const ChatTemplateRow* row_;
  std::string bos_, eos_;
  std::vector<int32_t> end_of_turn_ids_;
};

}  // namespace kiln::frontend
