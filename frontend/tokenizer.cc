#include "frontend/tokenizer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "frontend/byte_level_alphabet.h"
#include "frontend/stream_decoder.h"
#include "frontend/utf8.h"

namespace kiln::frontend {
namespace {

constexpr absl::string_view kMetaspace = "\u2581";

bool is_added(TokenType type) {
  return type == TokenType::kControl || type == TokenType::kUserDefined ||
         type == TokenType::kUnknown;
}

// What a byte-level token stands for: each character of its spelling is one
// byte. A spelling with other characters stands for itself, as in HF's
// ByteLevel decoder.
std::string byte_level_bytes(std::string_view piece) {
  std::string bytes;
  for (size_t pos = 0; pos < piece.size();) {
    const Utf8Step step = decode_utf8(piece, pos);
    const std::optional<uint8_t> byte =
        step.kind == Utf8Step::Kind::kValid ? byte_level_byte(step.code_point) : std::nullopt;
    if (!byte) return std::string(piece);
    bytes.push_back(static_cast<char>(*byte));
    pos += step.length;
  }
  return bytes;
}

// The bytes a token stands for. Added tokens are their own text in a
// byte-level vocabulary; in a SentencePiece one every "▁" is a space.
std::string token_bytes_of(const TokenSpec& token, BpeAlphabet alphabet) {
  if (token.type == TokenType::kByte) return std::string(1, *parse_byte_piece(token.piece));
  if (alphabet == BpeAlphabet::kCharacters) {
    return absl::StrReplaceAll(token.piece, {{kMetaspace, " "}});
  }
  return is_added(token.type) ? token.piece : byte_level_bytes(token.piece);
}

absl::Status check_id(const TokenizerSpec& spec, const char* what, int32_t id) {
  if (id >= 0 && static_cast<size_t>(id) < spec.tokens.size()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(spec.source, ": ", what, " ", id,
                                                 " is out of range for a vocabulary of ",
                                                 spec.tokens.size(), " tokens"));
}

absl::Status check_spec(const TokenizerSpec& spec) {
  if (spec.tokens.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(spec.source, ": the vocabulary is empty"));
  }
  for (const auto& [what, id] : {std::pair{"bos_token_id", spec.bos_id},
                                 std::pair{"eos_token_id", spec.eos_id},
                                 std::pair{"unknown_token_id", spec.unknown_id}}) {
    if (!id) continue;
    if (absl::Status status = check_id(spec, what, *id); !status.ok()) return status;
  }
  for (int32_t id : spec.end_of_generation_ids) {
    if (absl::Status status = check_id(spec, "end-of-generation token", id); !status.ok()) {
      return status;
    }
  }
  if ((spec.add_bos && !spec.bos_id) || (spec.add_eos && !spec.eos_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        spec.source, ": asks to add ", spec.add_bos && !spec.bos_id ? "BOS" : "EOS",
        " but names no such token"));
  }
  for (size_t id = 0; id < spec.tokens.size(); ++id) {
    const TokenSpec& token = spec.tokens[id];
    if (token.type == TokenType::kByte && !parse_byte_piece(token.piece)) {
      return absl::InvalidArgumentError(absl::StrCat(spec.source, ": byte token ", id, " is '",
                                                     token.piece, "', expected <0xNN>"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Tokenizer> Tokenizer::create(TokenizerSpec spec) {
  if (absl::Status status = check_spec(spec); !status.ok()) return status;
  absl::StatusOr<BpeModel> model = BpeModel::create(spec);
  if (!model.ok()) return model.status();
  absl::StatusOr<PreTokenizer> pre_tokenizer = PreTokenizer::create(std::move(spec.pre_tokenizer));
  if (!pre_tokenizer.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec.source, ": ", pre_tokenizer.status().message()));
  }
  return Tokenizer(std::move(spec), *std::move(model), *std::move(pre_tokenizer));
}

Tokenizer::Tokenizer(TokenizerSpec spec, BpeModel model, PreTokenizer pre_tokenizer)
    : source_(std::move(spec.source)),
      model_(std::move(model)),
      normalizer_(std::move(spec.normalizer)),
      pre_tokenizer_(std::move(pre_tokenizer)),
      bos_id_(spec.bos_id),
      eos_id_(spec.eos_id),
      end_of_generation_ids_(std::move(spec.end_of_generation_ids)),
      add_bos_(spec.add_bos),
      add_eos_(spec.add_eos),
      strip_leading_space_(spec.strip_leading_space) {
  std::vector<AddedToken> added;
  tokens_.reserve(spec.tokens.size());
  for (size_t id = 0; id < spec.tokens.size(); ++id) {
    TokenSpec& token = spec.tokens[id];
    if (is_added(token.type)) {
      added.push_back({token.piece, static_cast<int32_t>(id), token.type != TokenType::kUserDefined,
                       token.lstrip, token.rstrip});
    }
    std::string bytes = token_bytes_of(token, spec.alphabet);
    tokens_.push_back({std::move(token.piece), std::move(bytes), token.type});
  }
  added_tokens_ = AddedTokenMatcher(std::move(added));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special) const {
  return encode(text, EncodeOptions{.add_special = add_special});
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  std::string sanitized;
  if (!is_valid_utf8(text)) {
    sanitized = sanitize_utf8(text);
    text = sanitized;
  }
  std::vector<int32_t> ids;
  if (options.add_special && add_bos_) ids.push_back(*bos_id_);
  BpeCache cache;
  for (const TextSegment& segment : added_tokens_.split(text, options.parse_special)) {
    if (segment.token != TextSegment::kText) {
      ids.push_back(segment.token);
      continue;
    }
    encode_segment(text.substr(segment.begin, segment.end - segment.begin), segment.begin == 0,
                   cache, ids);
  }
  if (options.add_special && add_eos_) ids.push_back(*eos_id_);
  return ids;
}

void Tokenizer::encode_segment(std::string_view segment, bool at_text_start, BpeCache& cache,
                               std::vector<int32_t>& out_ids) const {
  std::string normalized = normalize_text(normalizer_, segment);
  for (const std::string& piece : pre_tokenizer_.split(std::move(normalized), at_text_start)) {
    model_.encode(piece, &cache, out_ids);
  }
}

absl::StatusOr<std::string> Tokenizer::decode(std::span<const int32_t> ids,
                                              const DecodeOptions& options) const {
  StreamDecoder decoder(*this, options);
  std::string text;
  for (int32_t id : ids) {
    absl::StatusOr<std::string> chunk = decoder.push(id);
    if (!chunk.ok()) return chunk.status();
    text += *chunk;
  }
  text += decoder.finish();
  return text;
}

bool Tokenizer::is_eos(int32_t id) const {
  return (eos_id_ && id == *eos_id_) ||
         std::find(end_of_generation_ids_.begin(), end_of_generation_ids_.end(), id) !=
             end_of_generation_ids_.end();
}

std::string_view Tokenizer::token_piece(int32_t id) const {
  return contains(id) ? std::string_view(tokens_[id].piece) : std::string_view();
}

TokenType Tokenizer::token_type(int32_t id) const {
  return contains(id) ? tokens_[id].type : TokenType::kUndefined;
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
  return contains(id) ? std::string_view(tokens_[id].bytes) : std::string_view();
}

bool Tokenizer::is_special(int32_t id) const {
  const TokenType type = token_type(id);
  return type == TokenType::kControl || type == TokenType::kUnknown;
}

}  // namespace kiln::frontend
