#include "frontend/stream_decoder.h"

#include "absl/strings/str_cat.h"
#include "frontend/utf8.h"

namespace kiln::frontend {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, DecodeOptions options)
    : tokenizer_(&tokenizer), options_(options) {}

absl::StatusOr<std::string> StreamDecoder::push(int32_t id) {
  if (!tokenizer_->contains(id)) {
    return absl::OutOfRangeError(absl::StrCat(tokenizer_->source(), ": token id ", id,
                                              " is out of range for a vocabulary of ",
                                              tokenizer_->vocab_size(), " tokens"));
  }
  if (tokenizer_->is_special(id) && !options_.render_special) return std::string();
  std::string_view bytes = tokenizer_->token_bytes(id);
  // The first token rendered loses the space that encoding put in front of
  // the text, where its piece begins with "▁" (as in sentencepiece, a byte
  // token <0x20> keeps its space).
  if (!rendered_any_ && tokenizer_->strip_leading_space() &&
      tokenizer_->token_type(id) != TokenType::kByte && bytes.starts_with(' ')) {
    bytes.remove_prefix(1);
  }
  rendered_any_ = true;
  pending_.append(bytes);

  std::string text;
  size_t pos = 0;
  while (pos < pending_.size()) {
    const Utf8Step step = decode_utf8(pending_, pos);
    if (step.kind == Utf8Step::Kind::kIncomplete) break;
    if (step.kind == Utf8Step::Kind::kValid) {
      text.append(pending_, pos, step.length);
    } else {
      append_utf8(kReplacementCharacter, text);
    }
    pos += step.length;
  }
  pending_.erase(0, pos);
  return text;
}

std::string StreamDecoder::finish() {
  std::string text = sanitize_utf8(pending_);
  pending_.clear();
  rendered_any_ = false;
  return text;
}

}  // namespace kiln::frontend
