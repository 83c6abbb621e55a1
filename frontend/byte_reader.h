#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiln::frontend {

// Tensor bytes are handed out as mapped, so kiln reads model files only on
// hosts that share their byte order.
static_assert(std::endian::native == std::endian::little,
              "kiln's model readers assume a little-endian host");

// What read() and ByteWriter::put() take: integers and IEEE floats, whose
// width the type fixes (bool's it does not).
template <typename T>
concept FixedWidthScalar = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

// A bounds-checked cursor over the bytes of one file. A read that would pass
// the end fails, leaves the cursor where it was, and says which file, what
// was being read, at which offset, and how many bytes it needed.
class ByteReader {
 public:
  // `source` names the bytes in messages (usually the file's path); it and
  // `bytes` must outlive the reader.
  ByteReader(std::string_view source, std::span<const uint8_t> bytes)
      : source_(source), bytes_(bytes) {}

  uint64_t offset() const { return offset_; }
  uint64_t remaining() const { return bytes_.size() - offset_; }

  // A little-endian integer or IEEE float; `what` names it in messages.
  template <FixedWidthScalar T>
  absl::StatusOr<T> read(std::string_view what);

  // The next `count` bytes, not copied.
  absl::StatusOr<std::span<const uint8_t>> read_bytes(uint64_t count, std::string_view what);
  // The same, as characters.
  absl::StatusOr<std::string_view> read_text(uint64_t count, std::string_view what);

 private:
  std::string_view source_;
  std::span<const uint8_t> bytes_;
  uint64_t offset_ = 0;
};

template <FixedWidthScalar T>
absl::StatusOr<T> ByteReader::read(std::string_view what) {
  const absl::StatusOr<std::span<const uint8_t>> raw = read_bytes(sizeof(T), what);
  if (!raw.ok()) return raw.status();
  T value;
  std::memcpy(&value, raw->data(), sizeof(T));
  return value;
}

}  // namespace kiln::frontend
