#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace kiln::program {

// Element types. Block-quantised types (q4_0, q8_0, ...) will join as rows of
// the same table: a block of `block_elements` elements takes `block_bytes`.
enum class DType : uint8_t { f32, f16, bf16, i32 };

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  int64_t block_elements;
  int64_t block_bytes;
  bool is_float;
};

const DTypeInfo& dtype_info(DType dtype);
std::string_view dtype_name(DType dtype);
absl::StatusOr<DType> parse_dtype(std::string_view name);

// Bytes taken by `elements` elements; `elements` must be a whole number of
// blocks (always true for the unquantised types).
int64_t dtype_bytes(DType dtype, int64_t elements);

// IEEE half and bfloat16 conversions used by every host-side reader and by
// the cpu plugin. Round to nearest even; NaN stays NaN.
float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float value);

}  // namespace kiln::program
