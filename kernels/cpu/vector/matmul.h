#pragma once

#include <cstdint>

#include "kernels/cpu/vector/weight_layout.h"

namespace kiln::kernels::cpu::vector {

// y[m, n] = bias[n] + sum_k x[m, k] * W[n, k]: several activation rows
// (prefill) times a weight read in place. The rows are taken in blocks that
// stay in cache while each panel of W is read once per block; each output is
// summed in f32 over the same accumulators as gemv, so a row of matmul equals
// gemv of that row up to the order of the sum.
struct MatmulArgs {
  const float* x = nullptr;     // [m, k], dense
  const void* w = nullptr;      // [n, k] or [k, n] per `layout`, dense; the
                                // element type is the one the function names
  const float* bias = nullptr;  // [n], or null for none
  float* y = nullptr;           // [m, n], dense
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  WeightLayout layout = WeightLayout::n_by_k;
};

// Each call writes columns [n_begin, n_end) of every row of y and nothing
// else, so a thread pool splits [0, n) into disjoint ranges (each thread then
// reads only its own panels of W). Alignment, threading and dispatch are as
// for gemv (gemv.h); ranges in multiples of 64 keep every vector full.
//
// W as f32.
void matmul_f32(const MatmulArgs& args, int64_t n_begin, int64_t n_end);
// W as IEEE binary16, widened to f32 in registers.
void matmul_f16(const MatmulArgs& args, int64_t n_begin, int64_t n_end);
// W as bfloat16, widened to f32 in registers.
void matmul_bf16(const MatmulArgs& args, int64_t n_begin, int64_t n_end);

}  // namespace kiln::kernels::cpu::vector
