#include "frontend/pre_tokenizer.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "frontend/utf8.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace kiln::frontend {

// One compiled pattern. pcre2_code is read-only while matching, so one
// instance serves every thread; each split() brings its own match data.
class PreTokenizer::CompiledRegex {
 public:
  static absl::StatusOr<std::shared_ptr<const CompiledRegex>> compile(std::string_view pattern);

  CompiledRegex(const CompiledRegex&) = delete;
  CompiledRegex& operator=(const CompiledRegex&) = delete;
  ~CompiledRegex() { pcre2_code_free(code_); }

  // Appends the matches of the pattern in `text`, and the stretches between
  // them, to `out_pieces`.
  void split(std::string_view text, pcre2_match_data* match_data,
             std::vector<std::string>& out_pieces) const;

  const pcre2_code* code() const { return code_; }

 private:
  explicit CompiledRegex(pcre2_code* code) : code_(code) {}

  pcre2_code* code_;
};

absl::StatusOr<std::shared_ptr<const PreTokenizer::CompiledRegex>>
PreTokenizer::CompiledRegex::compile(std::string_view pattern) {
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                    PCRE2_UTF | PCRE2_UCP, &error, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return absl::InvalidArgumentError(absl::StrCat("pre-tokenizer regex '", std::string(pattern),
                                                   "': at offset ", error_offset, ": ",
                                                   reinterpret_cast<const char*>(message)));
  }
  // Without JIT support (some builds lack it) PCRE2 interprets the pattern:
  // slower, same matches.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  return std::shared_ptr<const CompiledRegex>(new CompiledRegex(code));
}

void PreTokenizer::CompiledRegex::split(std::string_view text, pcre2_match_data* match_data,
                                        std::vector<std::string>& out_pieces) const {
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t piece_begin = 0;
  size_t search = 0;
  while (search < text.size()) {
    // The text is valid UTF-8 (Tokenizer::encode sanitises it), so PCRE2 need
    // not check it again for each match.
    const int found = pcre2_match(code_, subject, text.size(), search, PCRE2_NO_UTF_CHECK,
                                  match_data, nullptr);
    // No match, or PCRE2's backtracking limit: the rest is one piece.
    if (found < 0) break;
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match_data);
    const size_t begin = ovector[0];
    const size_t end = ovector[1];
    if (begin > piece_begin) out_pieces.emplace_back(text.substr(piece_begin, begin - piece_begin));
    if (end > begin) {
      out_pieces.emplace_back(text.substr(begin, end - begin));
      piece_begin = end;
      search = end;
    } else {
      // An empty match: look again one character further, as regex
      // iterators do; the character joins the next stretch between matches.
      piece_begin = begin;
      search = begin + decode_utf8(text, begin).length;
    }
  }
  if (piece_begin < text.size()) out_pieces.emplace_back(text.substr(piece_begin));
}

namespace {

void apply_metaspace(const Metaspace& metaspace, std::string_view piece, bool at_text_start,
                     std::vector<std::string>& out_pieces) {
  std::string text = absl::StrReplaceAll(absl::string_view(piece.data(), piece.size()),
                                         {{" ", metaspace.replacement}});
  const bool prepend =
      metaspace.prepend_scheme == PrependScheme::kAlways ||
      (metaspace.prepend_scheme == PrependScheme::kFirst && at_text_start);
  if (prepend && !absl::StartsWith(text, metaspace.replacement)) {
    text.insert(0, metaspace.replacement);
  }
  if (!metaspace.split) {
    out_pieces.push_back(std::move(text));
    return;
  }
  // Each replacement begins a piece, together with what follows it.
  size_t begin = 0;
  for (size_t at = text.find(metaspace.replacement, 1); at != std::string::npos;
       at = text.find(metaspace.replacement, at + 1)) {
    out_pieces.push_back(text.substr(begin, at - begin));
    begin = at;
  }
  out_pieces.push_back(text.substr(begin));
}

}  // namespace

absl::StatusOr<PreTokenizer> PreTokenizer::create(std::vector<PreTokenizerStep> steps) {
  std::vector<Step> compiled;
  for (PreTokenizerStep& step : steps) {
    if (auto* regex = std::get_if<RegexSplit>(&step)) {
      absl::StatusOr<std::shared_ptr<const CompiledRegex>> code =
          CompiledRegex::compile(regex->pattern);
      if (!code.ok()) return code.status();
      compiled.emplace_back(*std::move(code));
    } else if (auto* metaspace = std::get_if<Metaspace>(&step)) {
      if (metaspace->replacement.empty()) {
        return absl::InvalidArgumentError("Metaspace pre-tokenizer: empty replacement");
      }
      compiled.emplace_back(std::move(*metaspace));
    } else {
      compiled.emplace_back(PrefixSpace{});
    }
  }
  return PreTokenizer(std::move(compiled));
}

std::vector<std::string> PreTokenizer::split(std::string segment, bool at_text_start) const {
  std::vector<std::string> pieces;
  if (segment.empty()) return pieces;
  pieces.push_back(std::move(segment));
  for (const Step& step : steps_) {
    std::vector<std::string> next;
    next.reserve(pieces.size());
    if (const auto* regex = std::get_if<std::shared_ptr<const CompiledRegex>>(&step)) {
      const std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match_data(
          pcre2_match_data_create_from_pattern((*regex)->code(), nullptr),
          &pcre2_match_data_free);
      for (const std::string& piece : pieces) (*regex)->split(piece, match_data.get(), next);
    } else if (const auto* metaspace = std::get_if<Metaspace>(&step)) {
      for (size_t i = 0; i < pieces.size(); ++i) {
        apply_metaspace(*metaspace, pieces[i], at_text_start && i == 0, next);
      }
    } else {
      for (std::string& piece : pieces) {
        if (piece.front() != ' ') piece.insert(0, " ");
        next.push_back(std::move(piece));
      }
    }
    pieces = std::move(next);
  }
  return pieces;
}

}  // namespace kiln::frontend
