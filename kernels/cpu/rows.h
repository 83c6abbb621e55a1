#pragma once

#include <cstdint>

#include "kernels/cpu/kernel.h"

namespace kiln::kernels::cpu {

// Row helpers for kernels that sweep the last dim ("rows" are all leading
// dims flattened, as in ir/ops.cc).

// Length of the last dim; 1 for a scalar.
int64_t row_length(const TensorView& view);
// Number of rows; 0 when the last dim is empty.
int64_t row_count(const TensorView& view);

// Elements [start, start + count) converted to floats, with the dtype
// switch taken once per run rather than once per element.
void load_floats(const TensorView& view, int64_t start, int64_t count, float* out);

}  // namespace kiln::kernels::cpu
