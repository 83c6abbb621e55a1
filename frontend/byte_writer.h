#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "frontend/byte_reader.h"  // FixedWidthScalar, the little-endian host assertion

namespace kiln::frontend {

// Builds a little-endian byte image in memory: the writers' counterpart of
// ByteReader, and the way tests build malformed files byte by byte.
class ByteWriter {
 public:
  template <FixedWidthScalar T>
  void put(T value) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &value, sizeof(T));
  }

  void put_bytes(std::span<const uint8_t> bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  }
  void put_bytes(std::string_view text) { bytes_.insert(bytes_.end(), text.begin(), text.end()); }

  // Zero bytes up to the next multiple of `alignment`.
  void pad_to(size_t alignment) {
    const size_t remainder = bytes_.size() % alignment;
    if (remainder != 0) bytes_.resize(bytes_.size() + alignment - remainder);
  }

  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const& { return bytes_; }
  std::vector<uint8_t> bytes() && { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace kiln::frontend
