#pragma once

#include <cstdint>

#include "kernels/cpu/vector/weight_layout.h"

namespace kiln::kernels::cpu::vector {

// y[n] = bias[n] + sum_k x[k] * W[n, k]: one activation row times a weight
// read in place, for decode. Products and sums are f32, over several
// independent accumulators, so a result may differ from a sequential sum in
// the last bits; it is the same whatever range a call covers.
struct GemvArgs {
  const float* x = nullptr;     // [k]
  const void* w = nullptr;      // [n, k] or [k, n] per `layout`, dense; the
                                // element type is the one the function names
  const float* bias = nullptr;  // [n], or null for none
  float* y = nullptr;           // [n]
  int64_t n = 0;
  int64_t k = 0;
  WeightLayout layout = WeightLayout::n_by_k;
};

// Each call writes y[n_begin, n_end) and nothing else, reading the weight
// rows (n_by_k) or columns (k_by_n) of that range, so a thread pool splits
// [0, n) into disjoint ranges and runs them concurrently. Any range
// 0 <= n_begin <= n_end <= n works; multiples of 64 keep every vector full.
// No pointer needs any alignment. The kernels run on the calling thread,
// allocate nothing and dispatch to the best instruction set this machine has
// (see targets.h).
//
// W as f32.
void gemv_f32(const GemvArgs& args, int64_t n_begin, int64_t n_end);
// W as IEEE binary16, widened to f32 in registers.
void gemv_f16(const GemvArgs& args, int64_t n_begin, int64_t n_end);
// W as bfloat16, widened to f32 in registers.
void gemv_bf16(const GemvArgs& args, int64_t n_begin, int64_t n_end);

}  // namespace kiln::kernels::cpu::vector
