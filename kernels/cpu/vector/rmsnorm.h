#pragma once

#include <cstdint>

namespace kiln::kernels::cpu::vector {

// rmsnorm of one row: y[i] = x[i] / sqrt(mean(x^2) + eps) * g[i], the sum
// of squares in f32 over several accumulators (the reference keeps f64), so
// a result may differ from it in the last bits. With `residual` (not null),
// the row normalised is x[i] + residual[i] rounded to f32, which is also
// written to `sum` (it may be x itself: each element is read before it is
// written).
struct RmsnormRowArgs {
  const float* x = nullptr;         // [d]
  const float* residual = nullptr;  // [d], or null
  const void* g = nullptr;          // [d]; the element type is the one the function names
  int64_t d = 0;
  float eps = 0.0f;
  float* sum = nullptr;  // [d]; written when residual is given
  float* y = nullptr;    // [d]; may be x
};

// Runs on the calling thread, allocates nothing, needs no alignment and
// dispatches to the best instruction set this machine has (targets.h).
//
// g as f32.
void rmsnorm_row_f32(const RmsnormRowArgs& args);
// g as IEEE binary16.
void rmsnorm_row_f16(const RmsnormRowArgs& args);
// g as bfloat16.
void rmsnorm_row_bf16(const RmsnormRowArgs& args);

}  // namespace kiln::kernels::cpu::vector
