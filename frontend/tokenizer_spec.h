#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "frontend/pre_tokenizer.h"
#include "frontend/text_normalizer.h"

namespace kiln::frontend {

// What a tokenizer file says, in one plain form that every loader fills
// (GGUF, tokenizer.json, tokenizer.model) and Tokenizer::create validates.

// GGUF tokenizer.ggml.token_type values (llama.cpp's llama_token_type, which
// follows sentencepiece's piece types).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,      // <unk>
  kControl = 3,      // <s>, </s>, <|eot_id|>: special tokens
  kUserDefined = 4,  // added tokens that are not special
  kUnused = 5,
  kByte = 6,         // <0x00> .. <0xFF>: byte fallback
};

// The byte a byte-fallback token stands for, from its spelling "<0xNN>".
inline std::optional<uint8_t> parse_byte_piece(std::string_view piece) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (piece.size() != 6 || !piece.starts_with("<0x") || piece.back() != '>') return std::nullopt;
  const int high = hex(piece[3]);
  const int low = hex(piece[4]);
  if (high < 0 || low < 0) return std::nullopt;
  return static_cast<uint8_t>(high * 16 + low);
}

struct TokenSpec {
  // As the vocabulary spells it: "▁the" (SentencePiece), "Ġthe" (byte-level,
  // see byte_level_alphabet.h), "<0x0A>", "<|eot_id|>".
  std::string piece;
  // SentencePiece's log-probability; the merge priority when
  // TokenizerSpec::merges is empty.
  float score = 0;
  TokenType type = TokenType::kNormal;
  // Control, user-defined and unknown tokens are added tokens: they are
  // found in the text before BPE runs. lstrip/rstrip: they swallow the
  // whitespace before/after them (HF added_tokens).
  bool lstrip = false;
  bool rstrip = false;
};

// How a piece of text becomes BPE's initial symbols.
enum class BpeAlphabet {
  // SentencePiece style: one symbol per UTF-8 character; a character that is
  // not a token becomes its <0xNN> byte tokens (byte_fallback) or <unk>.
  kCharacters,
  // Byte-level (GPT-2, Llama 3, Qwen2): one symbol per byte, the token
  // spelling that byte in GPT-2's alphabet.
  kBytes,
};

struct TokenizerSpec {
  std::string source;  // the file it came from, for messages

  std::vector<TokenSpec> tokens;  // tokens[id]
  BpeAlphabet alphabet = BpeAlphabet::kCharacters;
  // SentencePiece BPE (GGUF `llama`): two adjacent symbols merge when their
  // concatenation is a normal, user-defined or unused token, the highest
  // score first. Otherwise `merges` are the rules, highest priority first.
  bool merge_by_score = false;
  std::vector<std::pair<std::string, std::string>> merges;
  bool byte_fallback = false;
  bool fuse_unknown = false;   // a run of unknown characters gives one <unk>
  bool ignore_merges = false;  // a piece that is a token is not merged (Llama 3)

  std::vector<NormalizerStep> normalizer;
  std::vector<PreTokenizerStep> pre_tokenizer;

  std::optional<int32_t> bos_id;
  std::optional<int32_t> eos_id;
  std::optional<int32_t> unknown_id;
  // Tokens besides EOS that end generation (GGUF eot/eom, HF
  // generation_config's eos_token_id list).
  std::vector<int32_t> end_of_generation_ids;
  bool add_bos = false;  // encoding with add_special prepends BOS
  bool add_eos = false;  // ... and appends EOS

  // Decoding drops one space at the start of the first token it renders:
  // the dummy prefix "▁" that SentencePiece-style encoding added.
  bool strip_leading_space = false;
};

}  // namespace kiln::frontend
