#pragma once

#include <string>

#include "absl/status/status.h"
#include "frontend/tokenizer_json_fields.h"
#include "frontend/tokenizer_spec.h"

namespace kiln::frontend {

// The text pipeline of a tokenizer.json, section by section, into `spec`.
// Each section is one component or a Sequence of them; a component kiln does
// not implement is refused by name rather than skipped, since skipping it
// would tokenise differently from HF.

// NFC/NFD/NFKC/NFKD, Prepend, Replace (with a String pattern).
absl::Status read_normalizer(const TokenizerJsonFields& fields, const nlohmann::json& node,
                             const std::string& where, TokenizerSpec& spec);

// Split (Isolated), ByteLevel (which makes the alphabet bytes), Metaspace,
// Digits.
absl::Status read_pre_tokenizer(const TokenizerJsonFields& fields, const nlohmann::json& node,
                                const std::string& where, TokenizerSpec& spec);

// Decoding itself follows from the alphabet (see Tokenizer); the decoder is
// checked to agree with it and says whether the leading space goes (Strip,
// Metaspace). `out_byte_level` tells whether it decodes byte-level tokens.
absl::Status read_decoder(const TokenizerJsonFields& fields, const nlohmann::json& node,
                          const std::string& where, TokenizerSpec& spec, bool& out_byte_level);

// TemplateProcessing's single-sequence template gives BOS and EOS; ByteLevel
// post-processing only trims offsets, which kiln does not report.
absl::Status read_post_processor(const TokenizerJsonFields& fields, const nlohmann::json& node,
                                 const std::string& where, TokenizerSpec& spec);

}  // namespace kiln::frontend
