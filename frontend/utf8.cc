#include "frontend/utf8.h"

#include <cstdint>

namespace kiln::frontend {
namespace {

// The well-formed sequences of Table 3-7, by lead byte: how many bytes the
// character has and which values its second byte may take (every later byte
// is 80..BF). The narrow second-byte ranges rule out overlong forms (E0, F0),
// surrogates (ED) and code points above U+10FFFF (F4).
struct LeadByte {
  uint8_t first, last;  // lead byte range
  size_t length;
  uint8_t second_min, second_max;
};

constexpr LeadByte kLeadBytes[] = {
    {0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF}, {0xE1, 0xEC, 3, 0x80, 0xBF},
    {0xED, 0xED, 3, 0x80, 0x9F}, {0xEE, 0xEF, 3, 0x80, 0xBF}, {0xF0, 0xF0, 4, 0x90, 0xBF},
    {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F},
};

const LeadByte* find_lead_byte(uint8_t byte) {
  for (const LeadByte& lead : kLeadBytes) {
    if (byte >= lead.first && byte <= lead.last) return &lead;
  }
  return nullptr;
}

}  // namespace

Utf8Step decode_utf8(std::string_view text, size_t pos) {
  const auto byte_at = [&](size_t i) { return static_cast<uint8_t>(text[pos + i]); };
  const uint8_t first = byte_at(0);
  if (first < 0x80) return {Utf8Step::Kind::kValid, 1, first};
  const LeadByte* lead = find_lead_byte(first);
  if (lead == nullptr) return {Utf8Step::Kind::kIllFormed, 1, 0};

  char32_t code_point = first & (0x7F >> lead->length);
  for (size_t i = 1; i < lead->length; ++i) {
    if (pos + i == text.size()) return {Utf8Step::Kind::kIncomplete, i, 0};
    const uint8_t byte = byte_at(i);
    const uint8_t min = i == 1 ? lead->second_min : 0x80;
    const uint8_t max = i == 1 ? lead->second_max : 0xBF;
    if (byte < min || byte > max) return {Utf8Step::Kind::kIllFormed, i, 0};
    code_point = (code_point << 6) | (byte & 0x3F);
  }
  return {Utf8Step::Kind::kValid, lead->length, code_point};
}

bool is_valid_utf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    if (static_cast<uint8_t>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const Utf8Step step = decode_utf8(text, pos);
    if (step.kind != Utf8Step::Kind::kValid) return false;
    pos += step.length;
  }
  return true;
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Step step = decode_utf8(text, pos);
    if (step.kind == Utf8Step::Kind::kValid) {
      out.append(text.substr(pos, step.length));
    } else {
      append_utf8(kReplacementCharacter, out);
    }
    pos += step.length;
  }
  return out;
}

void append_utf8(char32_t code_point, std::string& out_text) {
  const auto put = [&](uint32_t byte) { out_text.push_back(static_cast<char>(byte)); };
  if (code_point < 0x80) {
    put(code_point);
  } else if (code_point < 0x800) {
    put(0xC0 | (code_point >> 6));
    put(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    put(0xE0 | (code_point >> 12));
    put(0x80 | ((code_point >> 6) & 0x3F));
    put(0x80 | (code_point & 0x3F));
  } else {
    put(0xF0 | (code_point >> 18));
    put(0x80 | ((code_point >> 12) & 0x3F));
    put(0x80 | ((code_point >> 6) & 0x3F));
    put(0x80 | (code_point & 0x3F));
  }
}

bool is_unicode_whitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

}  // namespace kiln::frontend
