#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::frontend {

// The pre-tokenizers of HF tokenizer.json that Llama-family tokenizers use:
// each cuts the pieces it is given into smaller ones, and BPE then runs on
// each piece by itself, so no token spans two pieces.

// Each match of `pattern`, and each stretch of text between two matches,
// becomes a piece (HF Split with behavior "Isolated"). PCRE2 syntax in UTF
// and UCP mode: \p{L}, \p{N}, \s and (?i) follow Unicode, and lookahead
// such as \s+(?!\S) works.
struct RegexSplit {
  std::string pattern;
};

enum class PrependScheme {
  kAlways,  // every piece
  kFirst,   // only the piece that begins the text
  kNever,
};

// HF Metaspace: spaces become `replacement`; it is put before a piece that
// does not already start with it, as `prepend_scheme` says; with `split`,
// each replacement starts a new piece ("▁Hello▁world" -> "▁Hello", "▁world").
struct Metaspace {
  std::string replacement = "\u2581";
  PrependScheme prepend_scheme = PrependScheme::kAlways;
  bool split = true;
};

// HF ByteLevel's add_prefix_space: a space before each piece that does not
// start with one.
struct PrefixSpace {};

using PreTokenizerStep = std::variant<RegexSplit, Metaspace, PrefixSpace>;

// The patterns of the byte-level families. GPT-2's is also what an HF
// ByteLevel pre-tokenizer with use_regex applies.
inline constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// A sequence of steps, each applied to every piece the previous one made.
// Immutable once created; split() may run on several threads at once.
class PreTokenizer {
 public:
  // Fails on a pattern PCRE2 rejects, naming the pattern and the position.
  static absl::StatusOr<PreTokenizer> create(std::vector<PreTokenizerStep> steps);

  // The pieces of one normalised segment (valid UTF-8), in order; none is
  // empty. `at_text_start` says whether the segment begins the
  // text being encoded (PrependScheme::kFirst).
  std::vector<std::string> split(std::string segment, bool at_text_start) const;

 private:
  class CompiledRegex;
  using Step = std::variant<std::shared_ptr<const CompiledRegex>, Metaspace, PrefixSpace>;

  explicit PreTokenizer(std::vector<Step> steps) : steps_(std::move(steps)) {}

  std::vector<Step> steps_;
};

}  // namespace kiln::frontend
