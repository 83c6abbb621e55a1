#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/tensor_data.h"
#include "ir/dtype.h"

namespace kiln::testing {

// A reference file written by data/make_format_fixtures.py.
inline std::string fixture_path(std::string_view name) {
  return std::string(KILN_SOURCE_DIR) + "/tests/frontend/data/" + std::string(name);
}

// The elements of an f32, f16 or bf16 tensor, as floats.
inline std::vector<float> floats_of(const frontend::TensorData& tensor) {
  const size_t width = static_cast<size_t>(ir::dtype_info(tensor.dtype).block_bytes);
  std::vector<float> values(tensor.bytes / width);
  for (size_t i = 0; i < values.size(); ++i) {
    const uint8_t* element = tensor.data + i * width;
    if (tensor.dtype == ir::DType::f32) {
      std::memcpy(&values[i], element, sizeof(float));
      continue;
    }
    uint16_t bits;
    std::memcpy(&bits, element, sizeof(bits));
    values[i] = tensor.dtype == ir::DType::f16 ? ir::f16_to_f32(bits) : ir::bf16_to_f32(bits);
  }
  return values;
}

inline std::vector<int32_t> ints_of(const frontend::TensorData& tensor) {
  std::vector<int32_t> values(tensor.bytes / sizeof(int32_t));
  if (!values.empty()) std::memcpy(values.data(), tensor.data, tensor.bytes);
  return values;
}

}  // namespace kiln::testing
