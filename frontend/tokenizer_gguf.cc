#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "frontend/tokenizer_loader.h"

namespace kiln::frontend {
namespace {

constexpr std::string_view kModelKey = "tokenizer.ggml.model";
constexpr std::string_view kTokensKey = "tokenizer.ggml.tokens";
constexpr std::string_view kScoresKey = "tokenizer.ggml.scores";
constexpr std::string_view kTokenTypeKey = "tokenizer.ggml.token_type";
constexpr std::string_view kMergesKey = "tokenizer.ggml.merges";
constexpr std::string_view kPreKey = "tokenizer.ggml.pre";

// The pre-tokenizers that llama.cpp names in tokenizer.ggml.pre, as the HF
// tokenizer.json of each family declares them: its Split regexes, whether it
// takes a piece that is a token whole (ignore_merges), and its NFC
// normaliser, which llama.cpp leaves out but the model was trained with.
// add_bos is llama.cpp's default where the file has no add_bos_token.
struct PreTokenizerPreset {
  std::string_view name;
  std::vector<std::string_view> patterns;
  bool ignore_merges;
  bool nfc;
  bool add_bos;
};

const std::vector<PreTokenizerPreset>& pre_tokenizer_presets() {
  static const std::vector<PreTokenizerPreset> presets = {
      {"default", {kGpt2Pattern}, false, false, false},
      {"gpt2", {kGpt2Pattern}, false, false, false},
      {"llama-bpe", {kLlama3Pattern}, true, false, true},
      {"llama3", {kLlama3Pattern}, true, false, true},
      {"llama-v3", {kLlama3Pattern}, true, false, true},
      {"qwen2", {kQwen2Pattern}, false, true, false},
      // HF: Digits(individual_digits) then ByteLevel(use_regex).
      {"smollm", {R"(\p{N})", kGpt2Pattern}, false, false, false},
  };
  return presets;
}

absl::Status missing(const GgufFile& gguf, std::string_view key, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(gguf.path(), ": no metadata key '",
                                                 std::string(key), "' (", std::string(why), ")"));
}

absl::Status wrong_length(const GgufFile& gguf, std::string_view key, size_t found,
                          size_t tokens) {
  return absl::InvalidArgumentError(absl::StrCat(gguf.path(), ": ", std::string(key), " has ",
                                                 found, " entries for ", tokens, " tokens"));
}

absl::StatusOr<std::optional<int32_t>> optional_id(const GgufFile& gguf, std::string_view key) {
  if (gguf.find(key) == nullptr) return std::nullopt;
  absl::StatusOr<int64_t> id = gguf.get_i64(key);
  if (!id.ok()) return id.status();
  // Converters write -1 (as an unsigned 0xFFFFFFFF, too) for "no such token".
  if (*id < 0 || *id == 0xFFFFFFFF) return std::nullopt;
  if (*id > INT32_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat(gguf.path(), ": ", std::string(key), " is ", *id, ", not a token id"));
  }
  return static_cast<int32_t>(*id);
}

absl::StatusOr<bool> optional_bool(const GgufFile& gguf, std::string_view key, bool fallback) {
  if (gguf.find(key) == nullptr) return fallback;
  return gguf.get_bool(key);
}

// Token types, or, where the file has none, what the pieces tell: "<0xNN>"
// pieces of a `llama` vocabulary are byte tokens.
absl::Status read_token_types(const GgufFile& gguf, bool sentencepiece, TokenizerSpec& spec) {
  if (gguf.find(kTokenTypeKey) == nullptr) {
    for (TokenSpec& token : spec.tokens) {
      if (sentencepiece && parse_byte_piece(token.piece)) token.type = TokenType::kByte;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<int32_t>> types = gguf.get_i32_array(kTokenTypeKey);
  if (!types.ok()) return types.status();
  if (types->size() != spec.tokens.size()) {
    return wrong_length(gguf, kTokenTypeKey, types->size(), spec.tokens.size());
  }
  for (size_t id = 0; id < types->size(); ++id) {
    const int32_t type = (*types)[id];
    if (type < 0 || type > static_cast<int32_t>(TokenType::kByte)) {
      return absl::InvalidArgumentError(absl::StrCat(gguf.path(), ": ", std::string(kTokenTypeKey),
                                                     "[", id, "] is ", type,
                                                     ", not a llama.cpp token type (0 to 6)"));
    }
    spec.tokens[id].type = static_cast<TokenType>(type);
  }
  return absl::OkStatus();
}

absl::Status read_scores(const GgufFile& gguf, TokenizerSpec& spec) {
  if (gguf.find(kScoresKey) == nullptr) {
    return missing(gguf, kScoresKey, "a `llama` vocabulary merges by score");
  }
  absl::StatusOr<std::vector<float>> scores = gguf.get_f32_array(kScoresKey);
  if (!scores.ok()) return scores.status();
  if (scores->size() != spec.tokens.size()) {
    return wrong_length(gguf, kScoresKey, scores->size(), spec.tokens.size());
  }
  for (size_t id = 0; id < scores->size(); ++id) spec.tokens[id].score = (*scores)[id];
  return absl::OkStatus();
}

// Merges are "left right": the first space after the first character
// separates them, as in llama.cpp (byte-level pieces spell a space 'Ġ').
absl::Status read_merges(const GgufFile& gguf, TokenizerSpec& spec) {
  if (gguf.find(kMergesKey) == nullptr) {
    return missing(gguf, kMergesKey, "a `gpt2` vocabulary merges by rank");
  }
  absl::StatusOr<std::vector<std::string>> merges = gguf.get_string_array(kMergesKey);
  if (!merges.ok()) return merges.status();
  spec.merges.reserve(merges->size());
  for (size_t rank = 0; rank < merges->size(); ++rank) {
    const std::string& merge = (*merges)[rank];
    const size_t space = merge.find(' ', 1);
    if (space == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(gguf.path(), ": ", std::string(kMergesKey),
                                                     "[", rank, "] is '", merge,
                                                     "', expected two pieces separated by a space"));
    }
    spec.merges.emplace_back(merge.substr(0, space), merge.substr(space + 1));
  }
  return absl::OkStatus();
}

absl::StatusOr<const PreTokenizerPreset*> read_pre_tokenizer(const GgufFile& gguf,
                                                             TokenizerSpec& spec) {
  std::string name = "default";
  if (gguf.find(kPreKey) != nullptr) {
    absl::StatusOr<std::string> pre = gguf.get_string(kPreKey);
    if (!pre.ok()) return pre.status();
    name = *pre;
  }
  std::string known;
  for (const PreTokenizerPreset& preset : pre_tokenizer_presets()) {
    absl::StrAppend(&known, known.empty() ? "" : ", ", std::string(preset.name));
    if (preset.name != name) continue;
    for (std::string_view pattern : preset.patterns) {
      spec.pre_tokenizer.push_back(RegexSplit{std::string(pattern)});
    }
    spec.ignore_merges = preset.ignore_merges;
    if (preset.nfc) {
      // In place: moving the variant trips a false -Wmaybe-uninitialized in GCC 12.
      spec.normalizer.emplace_back(std::in_place_type<UnicodeNormalization>, UnicodeNormalization{NormalForm::kNfc});
    }
    return &preset;
  }
  return absl::InvalidArgumentError(absl::StrCat(gguf.path(), ": pre-tokenizer '", name,
                                                 "' (", std::string(kPreKey),
                                                 ") is not supported; kiln knows ", known));
}

// SentencePiece BPE as llama.cpp runs it: spaces become "▁" and a "▁" goes
// before every stretch of text (add_space_prefix), including the text right
// after a special token.
absl::Status read_sentencepiece_model(const GgufFile& gguf, TokenizerSpec& spec) {
  spec.alphabet = BpeAlphabet::kCharacters;
  spec.merge_by_score = true;
  spec.byte_fallback = true;
  spec.fuse_unknown = true;
  if (absl::Status status = read_scores(gguf, spec); !status.ok()) return status;
  absl::StatusOr<bool> prefix = optional_bool(gguf, "tokenizer.ggml.add_space_prefix", true);
  if (!prefix.ok()) return prefix.status();
  if (*prefix) spec.normalizer.push_back(Prepend{"\u2581"});
  spec.normalizer.push_back(Replace{" ", "\u2581"});
  spec.strip_leading_space = *prefix;
  return absl::OkStatus();
}

// Returns whether llama.cpp adds BOS by default for this pre-tokenizer.
absl::StatusOr<bool> read_byte_level_model(const GgufFile& gguf, TokenizerSpec& spec) {
  spec.alphabet = BpeAlphabet::kBytes;
  if (absl::Status status = read_merges(gguf, spec); !status.ok()) return status;
  absl::StatusOr<const PreTokenizerPreset*> preset = read_pre_tokenizer(gguf, spec);
  if (!preset.ok()) return preset.status();
  return (*preset)->add_bos;
}

absl::Status read_id(const GgufFile& gguf, std::string_view key, std::optional<int32_t> fallback,
                     std::optional<int32_t>& out_id) {
  absl::StatusOr<std::optional<int32_t>> id = optional_id(gguf, key);
  if (!id.ok()) return id.status();
  out_id = gguf.find(key) != nullptr ? *id : fallback;
  return absl::OkStatus();
}

// BOS, EOS and <unk>, with llama.cpp's defaults for a `llama` vocabulary
// (1, 2 and 0), and the tokens that also end generation.
absl::Status read_special_ids(const GgufFile& gguf, bool sentencepiece, TokenizerSpec& spec) {
  const auto llama_default = [&](int32_t id) -> std::optional<int32_t> {
    if (!sentencepiece || static_cast<size_t>(id) >= spec.tokens.size()) return std::nullopt;
    return id;
  };
  absl::Status status = read_id(gguf, "tokenizer.ggml.bos_token_id", llama_default(1), spec.bos_id);
  if (status.ok()) {
    status = read_id(gguf, "tokenizer.ggml.eos_token_id", llama_default(2), spec.eos_id);
  }
  if (status.ok()) {
    status = read_id(gguf, "tokenizer.ggml.unknown_token_id", llama_default(0), spec.unknown_id);
  }
  for (std::string_view key : {"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
    std::optional<int32_t> id;
    if (status.ok()) status = read_id(gguf, key, std::nullopt, id);
    if (id) spec.end_of_generation_ids.push_back(*id);
  }
  return status;
}

absl::Status read_add_special(const GgufFile& gguf, bool default_add_bos, TokenizerSpec& spec) {
  absl::StatusOr<bool> add_bos = optional_bool(gguf, "tokenizer.ggml.add_bos_token",
                                               default_add_bos && spec.bos_id.has_value());
  if (!add_bos.ok()) return add_bos.status();
  absl::StatusOr<bool> add_eos = optional_bool(gguf, "tokenizer.ggml.add_eos_token", false);
  if (!add_eos.ok()) return add_eos.status();
  spec.add_bos = *add_bos;
  spec.add_eos = *add_eos;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TokenizerSpec> read_gguf_tokenizer(const GgufFile& gguf) {
  TokenizerSpec spec;
  spec.source = gguf.path();
  if (gguf.find(kModelKey) == nullptr) return missing(gguf, kModelKey, "the file has no tokenizer");
  absl::StatusOr<std::string> model = gguf.get_string(kModelKey);
  if (!model.ok()) return model.status();
  const bool sentencepiece = *model == "llama";
  if (!sentencepiece && *model != "gpt2") {
    return absl::InvalidArgumentError(absl::StrCat(gguf.path(), ": tokenizer model '", *model,
                                                   "' is not supported (expected llama or gpt2)"));
  }
  if (gguf.find(kTokensKey) == nullptr) return missing(gguf, kTokensKey, "the vocabulary");
  absl::StatusOr<std::vector<std::string>> pieces = gguf.get_string_array(kTokensKey);
  if (!pieces.ok()) return pieces.status();
  spec.tokens.resize(pieces->size());
  for (size_t id = 0; id < pieces->size(); ++id) spec.tokens[id].piece = std::move((*pieces)[id]);

  if (absl::Status status = read_token_types(gguf, sentencepiece, spec); !status.ok()) {
    return status;
  }
  // llama.cpp adds BOS by default to SentencePiece and Llama 3 vocabularies.
  bool default_add_bos = true;
  if (sentencepiece) {
    if (absl::Status status = read_sentencepiece_model(gguf, spec); !status.ok()) return status;
  } else {
    absl::StatusOr<bool> preset_add_bos = read_byte_level_model(gguf, spec);
    if (!preset_add_bos.ok()) return preset_add_bos.status();
    default_add_bos = *preset_add_bos;
  }
  if (absl::Status status = read_special_ids(gguf, sentencepiece, spec); !status.ok()) {
    return status;
  }
  if (absl::Status status = read_add_special(gguf, default_add_bos, spec); !status.ok()) {
    return status;
  }
  return spec;
}

}  // namespace kiln::frontend
