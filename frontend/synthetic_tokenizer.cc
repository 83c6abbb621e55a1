#include "frontend/synthetic_tokenizer.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "frontend/byte_level_alphabet.h"
#include "frontend/utf8.h"

namespace kiln::frontend {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kBytes = 256;
// GGUF token types (llama.cpp's llama_token_type).
constexpr int32_t kNormalToken = 1;
constexpr int32_t kControlToken = 3;

std::string byte_token(int byte) {
  std::string out;
  append_utf8(byte_level_char(static_cast<uint8_t>(byte)), out);
  return out;
}

}  // namespace

absl::StatusOr<SyntheticVocabulary> synthetic_vocabulary(int64_t vocab_size) {
  if (vocab_size < kSyntheticVocabularyMin) {
    return absl::InvalidArgumentError(absl::StrCat("a byte-level vocabulary needs at least ", kSyntheticVocabularyMin,
                                                   " tokens (256 bytes, BOS, EOS), not ", vocab_size));
  }
  SyntheticVocabulary out;
  const int64_t merged = vocab_size - kBytes - 2;
  out.tokens.reserve(vocab_size);
  out.merges.reserve(merged);
  for (int byte = 0; byte < kBytes; ++byte) out.tokens.push_back(byte_token(byte));
  // Token 256 + p is the pair p = (a, b); a triple joins pair p and byte c.
  for (int64_t i = 0; i < merged; ++i) {
    const int64_t pairs = int64_t{kBytes} * kBytes;
    const bool pair = i < pairs;
    const std::string& left = pair ? out.tokens[i / kBytes] : out.tokens[kBytes + (i - pairs) / kBytes];
    const std::string& right = out.tokens[(pair ? i : i - pairs) % kBytes];
    out.merges.emplace_back(left, right);
    out.tokens.push_back(left + right);
  }
  out.bos = static_cast<int32_t>(vocab_size - 2);
  out.eos = static_cast<int32_t>(vocab_size - 1);
  out.tokens.push_back("<|begin_of_text|>");
  out.tokens.push_back("<|end_of_text|>");
  return out;
}

std::string synthetic_tokenizer_json(const SyntheticVocabulary& vocabulary) {
  Json added = Json::array();
  for (int32_t id : {vocabulary.bos, vocabulary.eos}) {
    added.push_back({{"id", id}, {"content", vocabulary.tokens[id]}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  }
  Json vocab = Json::object();
  for (size_t id = 0; id < vocabulary.tokens.size(); ++id) vocab[vocabulary.tokens[id]] = id;
  Json merges = Json::array();
  for (const auto& [left, right] : vocabulary.merges) merges.push_back(Json::array({left, right}));
  const std::string& bos = vocabulary.tokens[vocabulary.bos];
  const Json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
                           {"use_regex", true}};
  Json tokenizer = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", byte_level},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", Json::array({{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"pair", Json::array({{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
                              {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                              {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}})},
        {"special_tokens", {{bos, {{"id", bos}, {"ids", {vocabulary.bos}}, {"tokens", {bos}}}}}}}},
      {"decoder", byte_level},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
        {"vocab", vocab}, {"merges", merges}}},
  };
  return tokenizer.dump();
}

void add_synthetic_tokenizer(const SyntheticVocabulary& vocabulary, GgufWriter& gguf) {
  std::vector<int32_t> types(vocabulary.tokens.size(), kNormalToken);
  types[vocabulary.bos] = types[vocabulary.eos] = kControlToken;
  std::vector<std::string> merges;
  merges.reserve(vocabulary.merges.size());
  for (const auto& [left, right] : vocabulary.merges) merges.push_back(absl::StrCat(left, " ", right));
  gguf.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  gguf.set("tokenizer.ggml.pre", GgufValue::string("gpt2"));
  gguf.set("tokenizer.ggml.tokens", GgufValue::string_array(vocabulary.tokens));
  gguf.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  gguf.set("tokenizer.ggml.merges", GgufValue::string_array(merges));
  gguf.set("tokenizer.ggml.bos_token_id", GgufValue::u32(static_cast<uint32_t>(vocabulary.bos)));
  gguf.set("tokenizer.ggml.eos_token_id", GgufValue::u32(static_cast<uint32_t>(vocabulary.eos)));
  gguf.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(true));
}

}  // namespace kiln::frontend
