#pragma once

#include <cstdint>

namespace kiln::kernels::cpu::vector {

// How a 2-D weight W of a projection y = x W is stored, row-major.
enum class WeightLayout : uint8_t {
  // [N, K]: one row per output (transpose_b, the Hugging Face layout); each
  // output is a dot product over one contiguous row.
  n_by_k,
  // [K, N]: one row per input; each output is a column, N elements apart.
  k_by_n,
};

}  // namespace kiln::kernels::cpu::vector
