#pragma once

#include <cstdint>
#include <optional>

namespace kiln::frontend {

// GPT-2's reversible map from the 256 byte values to printable characters
// (`bytes_to_unicode` in its encoder.py), through which byte-level BPE
// vocabularies spell their tokens: the bytes '!'..'~', U+00A1..U+00AC and
// U+00AE..U+00FF stand for themselves, the other 68 become U+0100, U+0101,
// ... in byte order, so the space 0x20 is written 'Ġ' (U+0120) and the
// newline 0x0A is written 'Ċ' (U+010A).
char32_t byte_level_char(uint8_t byte);

// The byte that `c` stands for; nullopt for characters outside the map.
std::optional<uint8_t> byte_level_byte(char32_t c);

}  // namespace kiln::frontend
