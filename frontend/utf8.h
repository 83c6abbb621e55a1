#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kiln::frontend {

// UTF-8 as the Unicode Standard defines it (§3.9, Table 3-7): no overlong
// forms, no surrogates, nothing above U+10FFFF.

inline constexpr char32_t kReplacementCharacter = U'\uFFFD';

// What the bytes at one position of a text hold.
struct Utf8Step {
  enum class Kind {
    kValid,       // one well-formed character of `length` bytes
    kIllFormed,   // a maximal subpart of `length` (>= 1) bytes that can never
                  // start a character: it stands for one U+FFFD
    kIncomplete,  // the rest of the text, a proper prefix of a character
  };
  Kind kind;
  size_t length;
  char32_t code_point;  // kValid only
};

// Decodes the character at byte `pos` (< text.size()).
Utf8Step decode_utf8(std::string_view text, size_t pos);

bool is_valid_utf8(std::string_view text);

// Replaces every maximal ill-formed subpart, and an incomplete character at
// the end, with U+FFFD: the "substitution of maximal subparts" practice that
// Python's errors="replace" and Rust's from_utf8_lossy follow.
std::string sanitize_utf8(std::string_view text);

void append_utf8(char32_t code_point, std::string& out_text);

// The Unicode White_Space property (Rust's char::is_whitespace).
bool is_unicode_whitespace(char32_t code_point);

}  // namespace kiln::frontend
