#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "ir/dtype.h"

namespace kiln::frontend {

// A tensor type of GGUF files, numbered and named as ggml does. A block of
// `block_elements` consecutive elements along the innermost dim takes
// `block_bytes` bytes; the plain types are blocks of one element.
struct GgmlType {
  uint32_t id;
  std::string_view name;  // as ggml spells it: "q4_K"
  uint32_t block_elements;
  uint32_t block_bytes;
  std::optional<ir::DType> dtype;  // set for the types kiln reads
};

// nullptr for ids ggml does not define, or no longer does (4, 5, 31-33, 36-38).
const GgmlType* find_ggml_type(uint32_t id);

// The ggml type whose elements are `dtype`'s; nullptr if ggml has none.
const GgmlType* ggml_type_of(ir::DType dtype);

// Bytes of a tensor of `shape` (outermost first) stored as `type`: whole
// blocks along the innermost dim. Fails when that dim is not a whole number
// of blocks or the size overflows; the message names neither file nor tensor.
absl::StatusOr<uint64_t> ggml_tensor_bytes(const GgmlType& type, std::span<const int64_t> shape);

}  // namespace kiln::frontend
