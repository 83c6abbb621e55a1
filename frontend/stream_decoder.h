#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "frontend/tokenizer.h"

namespace kiln::frontend {

// Decodes ids one at a time, as a model generates them, into chunks of valid
// UTF-8 that can be printed at once. A token may end inside a character
// (byte-fallback tokens, byte-level tokens that cut an emoji): its bytes are
// held back until the tokens that complete the character arrive. The chunks
// that push() returns, followed by finish(), are exactly
// Tokenizer::decode() of the same ids.
//
// Not thread-safe; the tokenizer must outlive the decoder.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, DecodeOptions options = {});

  // The text that `id` completes; often empty while a character is pending.
  // Fails on an id outside the vocabulary, leaving the decoder as it was.
  absl::StatusOr<std::string> push(int32_t id);

  // The bytes still held back, which no later token can complete now, as
  // U+FFFD; the decoder is then ready for a new text.
  std::string finish();

 private:
  const Tokenizer* tokenizer_;
  DecodeOptions options_;
  std::string pending_;         // an incomplete UTF-8 character
  bool rendered_any_ = false;  // a token has been rendered since the start
};

}  // namespace kiln::frontend
