#include "frontend/chat_template.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "frontend/gguf.h"
#include "frontend/model_path.h"
#include "frontend/quoted_text.h"
#include "nlohmann/json.hpp"

namespace kiln::frontend {
namespace {

// ChatML, (<|im_start|>role\ncontent<|im_end|>\n)* <|im_start|>assistant\n,
// recognised by its markers and, for the Qwen families, by the default
// system prompt their templates insert.
// The arguments are literals: a row holds views of static text.
ChatTemplateRow chatml(std::string_view name, std::string_view models, std::string_view default_system) {
  return {.name = name,
          .models = models,
          .markers = {"<|im_start|>", default_system.empty() ? std::string_view("<|im_end|>") : default_system},
          .start = "",
          .system = "<|im_start|>system\n{content}<|im_end|>\n",
          .user = "<|im_start|>user\n{content}<|im_end|>\n",
          .user_with_system = "",
          .assistant = "{content}",
          .assistant_prefix = "<|im_start|>assistant\n",
          .assistant_suffix = "<|im_end|>\n",
          .end_of_turn = {"<|im_end|>"},
          .default_system = default_system,
          .trim_content = false};
}

// One row per family, as its Jinja renders plain system/user/assistant
// messages (HF apply_chat_template, whose text is then tokenised with
// special tokens parsed and none added). Order is priority: a row whose
// markers contain another row's goes first (llama2 before mistral, the
// Qwen rows before plain ChatML).
const std::vector<ChatTemplateRow>& rows() {
  static const std::vector<ChatTemplateRow> table = {
      // bos + (header(role) + content|trim + <|eot_id|>)* + header(assistant)
      {.name = "llama3",
       .models = "Llama 3 / 3.1 / 3.2 Instruct",
       .markers = {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"},
       .start = "{bos}",
       .system = "<|start_header_id|>system<|end_header_id|>\n\n{content}<|eot_id|>",
       .user = "<|start_header_id|>user<|end_header_id|>\n\n{content}<|eot_id|>",
       .user_with_system = "",
       .assistant = "{content}",
       .assistant_prefix = "<|start_header_id|>assistant<|end_header_id|>\n\n",
       .assistant_suffix = "<|eot_id|>",
       .end_of_turn = {"<|eot_id|>"},
       .default_system = "",
       .trim_content = true},
      // (bos [INST] <<SYS>>\nsys\n<</SYS>>\n\nuser [/INST] ` reply ` eos)*;
      // the template strips each message.
      {.name = "llama2",
       .models = "Llama 2 Chat",
       .markers = {"[INST]", "<<SYS>>"},
       .start = "",
       .system = "",
       .user = "{bos}[INST] {content} [/INST]",
       .user_with_system = "{bos}[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{content} [/INST]",
       .assistant = " {content} ",
       .assistant_prefix = "",
       .assistant_suffix = "{eos}",
       .end_of_turn = {},
       .default_system = "",
       .trim_content = true},
      // bos ([INST] user [/INST]reply eos)*; the template has no system role,
      // so kiln puts the system prompt before the first user message.
      {.name = "mistral",
       .models = "Mistral / Mixtral Instruct v0.1-v0.2",
       .markers = {"[INST]"},
       .start = "{bos}",
       .system = "",
       .user = "[INST] {content} [/INST]",
       .user_with_system = "[INST] {system}\n\n{content} [/INST]",
       .assistant = "{content}",
       .assistant_prefix = "",
       .assistant_suffix = "{eos}",
       .end_of_turn = {},
       .default_system = "",
       .trim_content = false},
      // ChatML with Qwen2.5's default system prompt.
      chatml("qwen2.5", "Qwen2.5 Instruct", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."),
      // ChatML with Qwen2's default system prompt.
      chatml("qwen2", "Qwen2 / Qwen1.5 Instruct", "You are a helpful assistant."),
      // Plain ChatML.
      chatml("chatml", "ChatML (no default system prompt)", ""),
      // (<|role|>\ncontent eos \n)* <|assistant|>\n
      {.name = "zephyr",
       .models = "Zephyr, TinyLlama Chat",
       .markers = {"<|user|>", "<|assistant|>"},
       .start = "",
       .system = "<|system|>\n{content}{eos}\n",
       .user = "<|user|>\n{content}{eos}\n",
       .user_with_system = "",
       .assistant = "{content}",
       .assistant_prefix = "<|assistant|>\n",
       .assistant_suffix = "{eos}\n",
       .end_of_turn = {},
       .default_system = "",
       .trim_content = false},
  };
  return table;
}

std::string row_names() {
  std::vector<std::string> names;
  for (const ChatTemplateRow& row : rows()) names.emplace_back(row.name);
  return absl::StrJoin(names, ", ");
}

// Jinja's trim and Python's strip: whitespace off both ends.
std::string_view trimmed(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

bool uses(const ChatTemplateRow& row, std::string_view placeholder) {
  for (std::string_view pattern : {row.start, row.system, row.user, row.user_with_system, row.assistant,
                                   row.assistant_prefix, row.assistant_suffix}) {
    if (pattern.find(placeholder) != std::string_view::npos) return true;
  }
  for (std::string_view piece : row.end_of_turn) {
    if (piece == placeholder) return true;
  }
  return false;
}

absl::StatusOr<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open"));
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// tokenizer_config.json's chat_template: a string, or [{name, template}...].
absl::StatusOr<std::optional<std::string>> hf_config_template(const std::filesystem::path& path) {
  absl::StatusOr<std::string> text = read_file(path);
  if (!text.ok()) return text.status();
  const nlohmann::json config = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not a JSON object"));
  }
  const auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    for (const nlohmann::json& entry : *it) {
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
          entry["template"].is_string()) {
        return entry["template"].get<std::string>();
      }
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path.string(), ": chat_template is neither a string nor a list holding a \"default\" template"));
}

}  // namespace

std::span<const ChatTemplateRow> chat_template_rows() { return rows(); }

const ChatTemplateRow* find_chat_template_row(std::string_view name) {
  for (const ChatTemplateRow& row : rows()) {
    if (row.name == name) return &row;
  }
  return nullptr;
}

absl::StatusOr<const ChatTemplateRow*> recognise_chat_template(std::string_view template_text) {
  for (const ChatTemplateRow& row : rows()) {
    bool all = true;
    for (std::string_view marker : row.markers) all = all && template_text.find(marker) != std::string_view::npos;
    if (all) return &row;
  }
  return absl::InvalidArgumentError(absl::StrCat("the model's chat template is not one kiln knows: ",
                                                 quoted_text(template_text, 60),
                                                 "; choose a format with --chat-template NAME (", row_names(), ")"));
}

absl::StatusOr<std::optional<std::string>> read_chat_template(const std::string& model_path) {
  absl::StatusOr<ModelLocation> location = locate_model(model_path);
  if (!location.ok()) return location.status();
  if (location->format == ModelFormat::gguf) {
    absl::StatusOr<GgufFile> gguf = GgufFile::open(location->path);
    if (!gguf.ok()) return gguf.status();
    if (gguf->find("tokenizer.chat_template") == nullptr) return std::nullopt;
    absl::StatusOr<std::string> text = gguf->get_string("tokenizer.chat_template");
    if (!text.ok()) return text.status();
    return *std::move(text);
  }
  const std::filesystem::path folder(location->path);
  std::error_code ignored;
  if (std::filesystem::exists(folder / "chat_template.jinja", ignored)) {
    absl::StatusOr<std::string> text = read_file(folder / "chat_template.jinja");
    if (!text.ok()) return text.status();
    return *std::move(text);
  }
  if (!std::filesystem::exists(folder / "tokenizer_config.json", ignored)) return std::nullopt;
  return hf_config_template(folder / "tokenizer_config.json");
}

absl::StatusOr<ChatFormatter> ChatFormatter::create(const ChatTemplateRow& row, const Tokenizer& tokenizer) {
  const auto lacks = [&](std::string_view what) {
    return absl::FailedPreconditionError(absl::StrCat("chat template ", std::string(row.name), " needs ",
                                                      std::string(what), ", which the tokenizer of ",
                                                      tokenizer.source(), " lacks"));
  };
  std::string bos, eos;
  if (uses(row, "{bos}")) {
    if (!tokenizer.bos_id()) return lacks("a BOS token");
    bos = std::string(tokenizer.token_piece(*tokenizer.bos_id()));
  }
  std::vector<int32_t> end_ids;
  if (tokenizer.eos_id()) {
    eos = std::string(tokenizer.token_piece(*tokenizer.eos_id()));
    end_ids.push_back(*tokenizer.eos_id());
  } else if (uses(row, "{eos}")) {
    return lacks("an EOS token");
  }
  for (std::string_view piece : row.end_of_turn) {
    if (piece == "{eos}") continue;
    const std::optional<int32_t> id = tokenizer.token_id(piece);
    if (!id) return lacks(absl::StrCat("the token '", std::string(piece), "'"));
    end_ids.push_back(*id);
  }
  return ChatFormatter(row, std::move(bos), std::move(eos), std::move(end_ids));
}

// One pass over the pattern: text substituted for a placeholder is never
// scanned again, so a message holding "{eos}" stays as typed.
std::string ChatFormatter::fill(std::string_view pattern, std::string_view content, std::string_view system) const {
  const std::pair<std::string_view, std::string_view> values[] = {
      {"{bos}", bos_}, {"{eos}", eos_}, {"{content}", content}, {"{system}", system}};
  std::string out;
  for (size_t i = 0; i < pattern.size();) {
    bool replaced = false;
    for (const auto& [name, value] : values) {
      if (pattern.substr(i, name.size()) != name) continue;
      out.append(value);
      i += name.size();
      replaced = true;
      break;
    }
    if (!replaced) out.push_back(pattern[i++]);
  }
  return out;
}

std::string ChatFormatter::user_text(std::string_view user, std::string_view system) const {
  const std::string_view content = row_->trim_content ? trimmed(user) : user;
  if (row_->system.empty() && !system.empty()) return fill(row_->user_with_system, content, system);
  return fill(row_->user, content);
}

// The system message where the family has one of its own (else it goes
// into the first user message).
std::string ChatFormatter::system_text(std::string_view system) const {
  if (row_->system.empty() || system.empty()) return {};
  return fill(row_->system, row_->trim_content ? trimmed(system) : system);
}

absl::StatusOr<std::string> ChatFormatter::render(std::span<const ChatMessage> messages,
                                                  bool add_generation_prompt) const {
  std::string_view system = row_->default_system;
  size_t first = 0;
  if (!messages.empty() && messages.front().role == ChatRole::system) {
    system = messages.front().content;
    first = 1;
  }
  std::string out = fill(row_->start, {}) + system_text(system);
  bool first_user = true;
  for (const ChatMessage& message : messages.subspan(first)) {
    const std::string_view content = row_->trim_content ? trimmed(message.content) : message.content;
    switch (message.role) {
      case ChatRole::system: return absl::InvalidArgumentError("a system message may only come first");
      case ChatRole::user:
        out += user_text(content, first_user ? system : std::string_view());
        first_user = false;
        break;
      case ChatRole::assistant:
        out += fill(row_->assistant_prefix, {}) + fill(row_->assistant, content) + fill(row_->assistant_suffix, {});
        break;
    }
  }
  if (add_generation_prompt) out += fill(row_->assistant_prefix, {});
  return out;
}

std::string ChatFormatter::turn(std::string_view user, std::string_view system, bool first) const {
  if (system.empty()) system = row_->default_system;
  std::string out;
  if (first) {
    out = fill(row_->start, {}) + system_text(system);
  } else {
    out = fill(row_->assistant_suffix, {});
  }
  out += user_text(user, first ? system : std::string_view());
  out += fill(row_->assistant_prefix, {});
  return out;
}

}  // namespace kiln::frontend
