#pragma once

#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace kiln::frontend {

// The normalisers of HF tokenizer.json that Llama-family tokenizers use. Each
// applies to the text of one segment: the text between two added tokens.

enum class NormalForm { kNfc, kNfd, kNfkc, kNfkd };

struct UnicodeNormalization {
  NormalForm form;
};

// Puts `prefix` before a non-empty segment (HF Prepend; Llama 2's "▁").
struct Prepend {
  std::string prefix;
};

// Replaces every occurrence of the literal `from` (non-empty) with `to`.
struct Replace {
  std::string from;
  std::string to;
};

using NormalizerStep = std::variant<UnicodeNormalization, Prepend, Replace>;

// Applies `steps` in order. `text` must be valid UTF-8.
std::string normalize_text(std::span<const NormalizerStep> steps, std::string_view text);

}  // namespace kiln::frontend
