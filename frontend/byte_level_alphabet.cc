#include "frontend/byte_level_alphabet.h"

#include <array>

namespace kiln::frontend {
namespace {

constexpr bool stands_for_itself(uint32_t byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
         (byte >= 0xAE && byte <= 0xFF);
}

constexpr std::array<char32_t, 256> make_byte_to_char() {
  std::array<char32_t, 256> chars{};
  char32_t next_unprintable = 0x100;
  for (uint32_t byte = 0; byte < 256; ++byte) {
    chars[byte] = stands_for_itself(byte) ? byte : next_unprintable++;
  }
  return chars;
}

constexpr std::array<char32_t, 256> kByteToChar = make_byte_to_char();
constexpr uint32_t kUnprintableBytes = 68;

// The bytes that U+0100 + k stand for.
constexpr std::array<uint8_t, kUnprintableBytes> make_unprintable_bytes() {
  std::array<uint8_t, kUnprintableBytes> bytes{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    if (!stands_for_itself(byte)) bytes[kByteToChar[byte] - 0x100] = static_cast<uint8_t>(byte);
  }
  return bytes;
}

constexpr std::array<uint8_t, kUnprintableBytes> kUnprintableBytesByChar = make_unprintable_bytes();
static_assert(kByteToChar[0xFF] == 0xFF && kByteToChar[' '] == 0x120 && kByteToChar['\n'] == 0x10A);

}  // namespace

char32_t byte_level_char(uint8_t byte) { return kByteToChar[byte]; }

std::optional<uint8_t> byte_level_byte(char32_t c) {
  if (c < 0x100) {
    if (stands_for_itself(c)) return static_cast<uint8_t>(c);
    return std::nullopt;
  }
  if (c - 0x100 < kUnprintableBytes) return kUnprintableBytesByChar[c - 0x100];
  return std::nullopt;
}

}  // namespace kiln::frontend
