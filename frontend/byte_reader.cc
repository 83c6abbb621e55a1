#include "frontend/byte_reader.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace kiln::frontend {

absl::StatusOr<std::span<const uint8_t>> ByteReader::read_bytes(uint64_t count,
                                                                std::string_view what) {
  if (count > remaining()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(source_), ": truncated reading ", std::string(what), " at offset ",
                     offset_, ": needs ", count, " bytes, ", remaining(), " remain"));
  }
  const std::span<const uint8_t> bytes = bytes_.subspan(offset_, count);
  offset_ += count;
  return bytes;
}

absl::StatusOr<std::string_view> ByteReader::read_text(uint64_t count, std::string_view what) {
  const absl::StatusOr<std::span<const uint8_t>> bytes = read_bytes(count, what);
  if (!bytes.ok()) return bytes.status();
  return std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

}  // namespace kiln::frontend
