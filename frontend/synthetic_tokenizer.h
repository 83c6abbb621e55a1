#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "frontend/gguf_writer.h"

namespace kiln::frontend {

// A small valid byte-level BPE vocabulary of exactly `vocab_size` tokens,
// so a synthetic model runs with text prompts: ids 0..255 are the bytes (in
// GPT-2's byte-to-character spelling), then every pair of bytes, then byte
// pairs followed by a byte, each made by one merge; the last two ids are the
// special tokens BOS and EOS. It tokenizes any text (every byte is a token)
// and means nothing.
struct SyntheticVocabulary {
  std::vector<std::string> tokens;                          // by id, UTF-8
  std::vector<std::pair<std::string, std::string>> merges;  // by rank
  int32_t bos = 0, eos = 0;
};

inline constexpr int64_t kSyntheticVocabularyMin = 258;  // the bytes and the two specials

// Fails below kSyntheticVocabularyMin tokens.
absl::StatusOr<SyntheticVocabulary> synthetic_vocabulary(int64_t vocab_size);

// The HF tokenizer.json: a BPE model, ByteLevel pre-tokenizer and decoder,
// BOS prepended by the post-processor.
std::string synthetic_tokenizer_json(const SyntheticVocabulary& vocabulary);

// The same vocabulary as GGUF tokenizer.ggml.* metadata ("gpt2" model and
// pre-tokenizer).
void add_synthetic_tokenizer(const SyntheticVocabulary& vocabulary, GgufWriter& gguf);

}  // namespace kiln::frontend
