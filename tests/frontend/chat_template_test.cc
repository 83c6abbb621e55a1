// Chat templates: recognising each family's Jinja text, and the exact ids of
// a formatted two-turn conversation, worked out from the template by hand.
//
// Two vocabularies make the ids easy to derive:
//   - byte-level (GGUF `gpt2`, no merges): token i is byte i, so text gives
//     its ASCII codes; the special tokens follow at 256;
//   - SentencePiece style (GGUF `llama`, no multi-character pieces):
//     <unk> <s> </s>, byte tokens 3..258 (byte b is b + 3), "▁" 259; each
//     stretch of text between special tokens gets a "▁" in front and its
//     spaces become "▁".

#include "frontend/chat_template.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "frontend/byte_level_alphabet.h"
#include "frontend/tokenizer_loader.h"
#include "frontend/utf8.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/frontend/scratch_dir.h"
#include "tests/frontend/tokenizer_fixtures.h"

namespace kiln::frontend {
namespace {

using ::kiln::frontend::testing::write_tokenizer_gguf;
using ::testing::HasSubstr;
using Ids = std::vector<int32_t>;
using Json = nlohmann::json;

// Byte-level vocabulary: its special tokens.
constexpr int32_t kBeginOfText = 256, kStartHeader = 257, kEndHeader = 258, kEot = 259, kImStart = 260,
                  kImEnd = 261, kEndOfText = 262;
// SentencePiece vocabulary.
constexpr int32_t kBos = 1, kEos = 2, kSpace = 259;

Tokenizer byte_level_tokenizer() {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) {
    std::string piece;
    append_utf8(byte_level_char(static_cast<uint8_t>(b)), piece);
    tokens.push_back(piece);
  }
  std::vector<int32_t> types(256, 1);
  for (const char* special : {"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                              "<|im_start|>", "<|im_end|>", "<|end_of_text|>"}) {
    tokens.push_back(special);
    types.push_back(3);
  }
  const Json keys = {{"tokenizer.ggml.model", "gpt2"},         {"tokenizer.ggml.pre", "llama-bpe"},
                     {"tokenizer.ggml.tokens", tokens},        {"tokenizer.ggml.token_type", types},
                     {"tokenizer.ggml.merges", Json::array()}, {"tokenizer.ggml.bos_token_id", kBeginOfText},
                     {"tokenizer.ggml.eos_token_id", kEndOfText}};
  absl::StatusOr<Tokenizer> tokenizer = load_tokenizer(write_tokenizer_gguf(keys, "chat_bytes.gguf"));
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return *std::move(tokenizer);
}

Tokenizer sentencepiece_tokenizer() {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char piece[8];
    std::snprintf(piece, sizeof(piece), "<0x%02X>", b);
    tokens.push_back(piece);
    types.push_back(6);
  }
  tokens.push_back("\u2581");
  types.push_back(1);
  const Json keys = {{"tokenizer.ggml.model", "llama"},
                     {"tokenizer.ggml.tokens", tokens},
                     {"tokenizer.ggml.scores", std::vector<float>(tokens.size(), 0.0f)},
                     {"tokenizer.ggml.token_type", types}};
  absl::StatusOr<Tokenizer> tokenizer = load_tokenizer(write_tokenizer_gguf(keys, "chat_spm.gguf"));
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return *std::move(tokenizer);
}

// Byte-level: text is its bytes.
Ids bytes(std::string_view text) { return Ids(text.begin(), text.end()); }
// SentencePiece: a stretch of text after a special token (or at the start):
// "▁" first, spaces as "▁", every other byte b as b + 3.
Ids stretch(std::string_view text) {
  Ids ids = {kSpace};
  for (unsigned char c : text) ids.push_back(c == ' ' ? kSpace : c + 3);
  return ids;
}
Ids join(std::initializer_list<Ids> parts) {
  Ids all;
  for (const Ids& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

const ChatTemplateRow& row(std::string_view name) {
  const ChatTemplateRow* found = find_chat_template_row(name);
  EXPECT_NE(found, nullptr) << name;
  return *found;
}

// system "S", user "hi", assistant "yo", user "ok", generation prompt.
const std::vector<ChatMessage> kConversation = {
    {ChatRole::system, "S"}, {ChatRole::user, "hi"}, {ChatRole::assistant, "yo"}, {ChatRole::user, "ok"}};

Ids encode_conversation(const ChatTemplateRow& template_row, const Tokenizer& tokenizer,
                        std::string* out_text = nullptr) {
  absl::StatusOr<ChatFormatter> formatter = ChatFormatter::create(template_row, tokenizer);
  EXPECT_TRUE(formatter.ok()) << formatter.status();
  absl::StatusOr<std::string> text = formatter->render(kConversation, /*add_generation_prompt=*/true);
  EXPECT_TRUE(text.ok()) << text.status();
  if (out_text != nullptr) *out_text = *text;
  return tokenizer.encode(*text, EncodeOptions{.add_special = false, .parse_special = true});
}

TEST(ChatTemplateIdsTest, Llama3) {
  // <|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>
  // <|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>
  // <|start_header_id|>assistant<|end_header_id|>\n\nyo<|eot_id|>
  // <|start_header_id|>user<|end_header_id|>\n\nok<|eot_id|>
  // <|start_header_id|>assistant<|end_header_id|>\n\n
  const Ids expected = join({{kBeginOfText, kStartHeader}, bytes("system"), {kEndHeader}, bytes("\n\nS"), {kEot},
                             {kStartHeader}, bytes("user"), {kEndHeader}, bytes("\n\nhi"), {kEot},
                             {kStartHeader}, bytes("assistant"), {kEndHeader}, bytes("\n\nyo"), {kEot},
                             {kStartHeader}, bytes("user"), {kEndHeader}, bytes("\n\nok"), {kEot},
                             {kStartHeader}, bytes("assistant"), {kEndHeader}, bytes("\n\n")});
  EXPECT_EQ(encode_conversation(row("llama3"), byte_level_tokenizer()), expected);
  EXPECT_EQ(expected.front(), 256);
  EXPECT_EQ((Ids(expected.begin() + 2, expected.begin() + 8)), (Ids{115, 121, 115, 116, 101, 109}));  // "system"
}

TEST(ChatTemplateIdsTest, ChatMlAsQwen2) {
  // <|im_start|>system\nS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n
  // <|im_start|>assistant\nyo<|im_end|>\n<|im_start|>user\nok<|im_end|>\n
  // <|im_start|>assistant\n
  const Ids expected = join({{kImStart}, bytes("system\nS"), {kImEnd}, bytes("\n"),
                             {kImStart}, bytes("user\nhi"), {kImEnd}, bytes("\n"),
                             {kImStart}, bytes("assistant\nyo"), {kImEnd}, bytes("\n"),
                             {kImStart}, bytes("user\nok"), {kImEnd}, bytes("\n"),
                             {kImStart}, bytes("assistant\n")});
  for (std::string_view name : {"qwen2", "qwen2.5", "chatml"}) {
    EXPECT_EQ(encode_conversation(row(name), byte_level_tokenizer()), expected) << name;
  }
}

TEST(ChatTemplateIdsTest, Llama2) {
  // <s>[INST] <<SYS>>\nS\n<</SYS>>\n\nhi [/INST] yo </s><s>[INST] ok [/INST]
  const Ids expected = join({{kBos}, stretch("[INST] <<SYS>>\nS\n<</SYS>>\n\nhi [/INST] yo "), {kEos},
                             {kBos}, stretch("[INST] ok [/INST]")});
  EXPECT_EQ(encode_conversation(row("llama2"), sentencepiece_tokenizer()), expected);
  EXPECT_EQ((Ids(expected.begin(), expected.begin() + 9)), (Ids{1, 259, 94, 76, 81, 86, 87, 96, 259}));  // <s>▁[INST]▁
}

TEST(ChatTemplateIdsTest, Mistral) {
  // <s>[INST] S\n\nhi [/INST]yo</s>[INST] ok [/INST]
  const Ids expected = join({{kBos}, stretch("[INST] S\n\nhi [/INST]yo"), {kEos}, stretch("[INST] ok [/INST]")});
  EXPECT_EQ(encode_conversation(row("mistral"), sentencepiece_tokenizer()), expected);
}

TEST(ChatTemplateIdsTest, Zephyr) {
  // <|system|>\nS</s>\n<|user|>\nhi</s>\n<|assistant|>\nyo</s>\n<|user|>\nok</s>\n<|assistant|>\n
  const Ids expected = join({stretch("<|system|>\nS"), {kEos}, stretch("\n<|user|>\nhi"), {kEos},
                             stretch("\n<|assistant|>\nyo"), {kEos}, stretch("\n<|user|>\nok"), {kEos},
                             stretch("\n<|assistant|>\n")});
  EXPECT_EQ(encode_conversation(row("zephyr"), sentencepiece_tokenizer()), expected);
}

// A chat feeds turn() per user message and the model's reply between them;
// together they are the rendered conversation, whatever the family.
TEST(ChatTemplateTurnsTest, TurnsAndRepliesMakeTheRenderedConversation) {
  const Tokenizer spm = sentencepiece_tokenizer();
  const Tokenizer bytes_vocab = byte_level_tokenizer();
  for (const ChatTemplateRow& template_row : chat_template_rows()) {
    const bool byte_level = template_row.name == "llama3" || template_row.name.starts_with("qwen") ||
                            template_row.name == "chatml";
    absl::StatusOr<ChatFormatter> formatter = ChatFormatter::create(template_row, byte_level ? bytes_vocab : spm);
    ASSERT_TRUE(formatter.ok()) << formatter.status();
    // The reply as the template renders it: what the model generates.
    const std::string_view pattern = template_row.assistant;
    const size_t at = pattern.find("{content}");
    const std::string reply = std::string(pattern.substr(0, at)) + "yo" + std::string(pattern.substr(at + 9));
    const std::string chat =
        formatter->turn("hi", "S", /*first=*/true) + reply + formatter->turn("ok", "S", /*first=*/false);
    EXPECT_EQ(chat, formatter->render(kConversation, true).value_or("")) << template_row.name;
  }
}

TEST(ChatTemplateTurnsTest, DefaultSystemPromptAndTrimming) {
  absl::StatusOr<ChatFormatter> qwen = ChatFormatter::create(row("qwen2"), byte_level_tokenizer());
  ASSERT_TRUE(qwen.ok()) << qwen.status();
  EXPECT_EQ(qwen->turn("hi", "", true),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
            "<|im_start|>assistant\n");
  absl::StatusOr<ChatFormatter> llama3 = ChatFormatter::create(row("llama3"), byte_level_tokenizer());
  ASSERT_TRUE(llama3.ok()) << llama3.status();
  EXPECT_EQ(llama3->turn("  hi\n", "", false),
            "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  // Message text is never scanned for placeholders.
  EXPECT_THAT(llama3->turn("{eos} {bos}", "", false), HasSubstr("\n\n{eos} {bos}<|eot_id|>"));
  EXPECT_EQ(llama3->end_of_turn_ids(), (Ids{kEndOfText, kEot}));
}

TEST(ChatTemplateTurnsTest, ASystemMessageOnlyComesFirst) {
  absl::StatusOr<ChatFormatter> formatter = ChatFormatter::create(row("chatml"), byte_level_tokenizer());
  ASSERT_TRUE(formatter.ok());
  const std::vector<ChatMessage> messages = {{ChatRole::user, "hi"}, {ChatRole::system, "S"}};
  EXPECT_THAT(formatter->render(messages, true).status().message(), HasSubstr("system message may only come first"));
}

TEST(ChatTemplateTurnsTest, ATokenizerWithoutTheRowsTokensIsRefused) {
  absl::StatusOr<ChatFormatter> formatter = ChatFormatter::create(row("llama3"), sentencepiece_tokenizer());
  ASSERT_FALSE(formatter.ok());
  EXPECT_THAT(formatter.status().message(), HasSubstr("chat template llama3 needs the token '<|eot_id|>'"));
}

// ---- recognising the template text --------------------------------------

// Excerpts of the templates as the models ship them.
constexpr std::pair<std::string_view, std::string_view> kTemplates[] = {
    {"llama3",
     "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
     "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + "
     "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
     "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
     "{% endif %}"},
    {"llama2",
     "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = "
     "messages[0]['content'] %}{% endif %}{% for message in loop_messages %}{% if loop.index0 == 0 and "
     "system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + "
     "message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + "
     "content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' "
     "+ eos_token }}{% endif %}{% endfor %}"},
    {"mistral",
     "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + "
     "message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + "
     "eos_token}}{% endif %}{% endfor %}"},
    {"qwen2.5",
     "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + "
     "'<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a "
     "helpful assistant.<|im_end|>\\n' }}{%- endif %}"},
    {"qwen2",
     "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
     "'<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + "
     "message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"},
    {"chatml",
     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
     "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"zephyr",
     "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\\n' + message['content'] + "
     "eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\\n' + message['content'] + eos_token }}"
     "\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n"
     "{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n"
     "{% endfor %}"},
};

TEST(ChatTemplateRecogniseTest, EachFamilyByItsText) {
  for (const auto& [name, text] : kTemplates) {
    absl::StatusOr<const ChatTemplateRow*> found = recognise_chat_template(text);
    ASSERT_TRUE(found.ok()) << name << ": " << found.status();
    EXPECT_EQ((*found)->name, name);
  }
}

TEST(ChatTemplateRecogniseTest, AnUnknownTemplateIsNamedEscapedAndCut) {
  const std::string text = "{% for m in messages %}\n### {{ m['role'] }}: {{ m['content'] }}\x01{% endfor %}";
  absl::StatusOr<const ChatTemplateRow*> found = recognise_chat_template(text);
  ASSERT_FALSE(found.ok());
  const std::string message(found.status().message());
  EXPECT_THAT(message, HasSubstr("chat template is not one kiln knows: '{% for m in messages %}\\n### {{"));
  EXPECT_THAT(message, HasSubstr(absl::StrCat("(", text.size(), " bytes)")));
  EXPECT_THAT(message, HasSubstr("--chat-template NAME (llama3, llama2, mistral, qwen2.5, qwen2, chatml, zephyr)"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

// ---- reading the template from model files ------------------------------

TEST(ChatTemplateReadTest, FromGgufMetadata) {
  Json keys = {{"tokenizer.chat_template", kTemplates[0].second}};
  const std::string with = write_tokenizer_gguf(keys, "with_template.gguf");
  EXPECT_EQ(read_chat_template(with).value_or(std::nullopt), std::string(kTemplates[0].second));
  const std::string without = write_tokenizer_gguf(Json{{"general.name", "x"}}, "without_template.gguf");
  absl::StatusOr<std::optional<std::string>> none = read_chat_template(without);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
}

TEST(ChatTemplateReadTest, FromAnHfFolder) {
  const kiln::testing::ScratchDir dir;
  dir.write_text("config.json", "{}");
  absl::StatusOr<std::optional<std::string>> none = read_chat_template(dir.file(""));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  dir.write_text("tokenizer_config.json", Json{{"chat_template", "<|im_start|>"}}.dump());
  EXPECT_EQ(read_chat_template(dir.file("")).value_or(std::nullopt), "<|im_start|>");
  dir.write_text("tokenizer_config.json",
                 Json{{"chat_template", Json::array({Json{{"name", "tool_use"}, {"template", "tools"}},
                                                     Json{{"name", "default"}, {"template", "[INST]"}}})}}
                     .dump());
  EXPECT_EQ(read_chat_template(dir.file("")).value_or(std::nullopt), "[INST]");
  dir.write_text("tokenizer_config.json", Json{{"chat_template", 3}}.dump());
  EXPECT_THAT(read_chat_template(dir.file("")).status().message(),
              HasSubstr("tokenizer_config.json: chat_template is neither a string nor a list"));
  dir.write_text("chat_template.jinja", "<|user|><|assistant|>");  // preferred, as transformers does
  EXPECT_EQ(read_chat_template(dir.file("")).value_or(std::nullopt), "<|user|><|assistant|>");
}

}  // namespace
}  // namespace kiln::frontend
