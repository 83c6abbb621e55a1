#pragma once

#include <cstdint>

#include "program/dtype.h"

namespace kiln::kernels::cpu {

// y[rows, n] = x[rows, k] @ w (+ bias[n]) through the SIMD kernels of
// kernels/cpu/vector: gemv for one row (decode), the blocked matmul for more
// (prefill), f32 accumulation, the weight (f32, f16 or bf16; [n, k] when
// transpose_b, else [k, n]) read in place. Output columns are split over the
// thread pool in blocks of 64, or as small as 16 where the columns are few.
// `bias` may be null.
void project_simd(const float* x, int64_t rows, int64_t k, const void* w, program::DType w_dtype, bool transpose_b,
                  int64_t n, const float* bias, float* y);

}  // namespace kiln::kernels::cpu
