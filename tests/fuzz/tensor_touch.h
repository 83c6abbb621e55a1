#pragma once

#include <cstdint>

#include "frontend/tensor_data.h"

namespace kiln::fuzz {

// Reads every byte of `tensor`, so that AddressSanitizer sees a view that
// strays outside its file.
inline uint8_t touch(const frontend::TensorData& tensor) {
  uint8_t sum = 0;
  for (size_t i = 0; i < tensor.bytes; ++i) sum ^= tensor.data[i];
  return sum;
}

}  // namespace kiln::fuzz
