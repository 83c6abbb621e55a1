#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "frontend/added_tokens.h"
#include "frontend/bpe_model.h"
#include "frontend/pre_tokenizer.h"
#include "frontend/text_normalizer.h"
#include "frontend/tokenizer_spec.h"

namespace kiln::frontend {

struct EncodeOptions {
  // Prepend BOS and append EOS where the tokenizer asks for them (GGUF
  // add_bos_token/add_eos_token, the HF post-processor's template).
  bool add_special = false;
  // Recognise special tokens written in the text ("<|eot_id|>", "<s>"), as
  // HF tokenizers does by default. Turn off for text from untrusted sources:
  // such tokens are then spelled out like any other text. Non-special added
  // tokens are recognised either way.
  bool parse_special = true;
};

struct DecodeOptions {
  // Render control and unknown tokens ("<s>", "<|eot_id|>", "<unk>") as
  // their text; by default they render as nothing, so that decoding gives
  // the text a reader sees.
  bool render_special = false;
};

// A BPE tokenizer of a Llama-family model, in one of two kinds:
//   - SentencePiece style (Llama 1/2, Mistral, TinyLlama; GGUF `llama`;
//     tokenizer.json with Metaspace or a Prepend/Replace normaliser and
//     byte_fallback): spaces are "▁", a "▁" starts the text, characters
//     outside the vocabulary fall back to <0xNN> byte tokens;
//   - byte-level (GPT-2, Llama 3, Qwen2; GGUF `gpt2`; tokenizer.json with a
//     ByteLevel pre-tokenizer): a regex cuts the text into pieces, whose
//     bytes are spelled in GPT-2's alphabet and merged by rank.
// Both run one pipeline, as HF tokenizers does: added tokens are cut out of
// the text first; each stretch of text between them is normalised,
// pre-tokenised into pieces, and each piece is BPE-encoded.
//
// Immutable once created: encode() and decode() may run on several threads.
class Tokenizer {
 public:
  // Validates the spec (ids in range, merges naming tokens, byte tokens
  // spelled <0xNN>, regexes that compile); messages name spec.source.
  static absl::StatusOr<Tokenizer> create(TokenizerSpec spec);

  // `text` is UTF-8; ill-formed bytes are read as U+FFFD, as Python's
  // decode(errors="replace") would give them to HF tokenizers.
  std::vector<int32_t> encode(std::string_view text, bool add_special) const;
  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options) const;

  // The text of `ids`, valid UTF-8: bytes that form no character become
  // U+FFFD. Fails on an id outside [0, vocab_size()), naming it. The first
  // token rendered loses the space that SentencePiece-style encoding put in
  // front of the text. StreamDecoder decodes the same, token by token.
  absl::StatusOr<std::string> decode(std::span<const int32_t> ids,
                                     const DecodeOptions& options = {}) const;

  int32_t vocab_size() const { return static_cast<int32_t>(tokens_.size()); }
  std::optional<int32_t> bos_id() const { return bos_id_; }
  std::optional<int32_t> eos_id() const { return eos_id_; }
  // EOS, or another token that ends generation (Llama 3's <|eot_id|>).
  bool is_eos(int32_t id) const;
  bool contains(int32_t id) const { return id >= 0 && id < vocab_size(); }

  // The token as the vocabulary spells it ("▁the", "Ġthe", "<0x0A>"); empty
  // for an id outside the vocabulary.
  std::string_view token_piece(int32_t id) const;
  TokenType token_type(int32_t id) const;
  // The bytes the token stands for, before the leading-space rule: possibly
  // part of a UTF-8 character (a byte token, or a byte-level token that ends
  // inside one). Empty for an id outside the vocabulary.
  std::string_view token_bytes(int32_t id) const;
  std::optional<int32_t> token_id(std::string_view piece) const { return model_.find(piece); }

  // Whether DecodeOptions::render_special governs this token.
  bool is_special(int32_t id) const;
  bool strip_leading_space() const { return strip_leading_space_; }
  // The file the tokenizer was read from.
  const std::string& source() const { return source_; }

 private:
  struct Token {
    std::string piece;
    std::string bytes;
    TokenType type;
  };

  Tokenizer(TokenizerSpec spec, BpeModel model, PreTokenizer pre_tokenizer);

  void encode_segment(std::string_view segment, bool at_text_start, BpeCache& cache,
                      std::vector<int32_t>& out_ids) const;

  std::string source_;
  std::vector<Token> tokens_;
  BpeModel model_;
  AddedTokenMatcher added_tokens_;
  std::vector<NormalizerStep> normalizer_;
  PreTokenizer pre_tokenizer_;
  std::optional<int32_t> bos_id_;
  std::optional<int32_t> eos_id_;
  std::vector<int32_t> end_of_generation_ids_;
  bool add_bos_ = false;
  bool add_eos_ = false;
  bool strip_leading_space_ = false;
};

}  // namespace kiln::frontend
