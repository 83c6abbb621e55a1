#include "kernels/cpu/vector_projection.h"

#include <algorithm>

#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/vector/gemv.h"
#include "kernels/cpu/vector/matmul.h"

namespace kiln::kernels::cpu {
namespace {

// Output columns are handed out in blocks of 64 (every vector of a tile
// full), halved down to 16 (one AVX-512 vector) while that leaves fewer
// than 8 blocks a thread: the pool's chunks then even out (a GQA layer's
// k and v, 192 columns, split 12 ways rather than 3).
int64_t column_block(int64_t n) {
  const int64_t threads = parallel_threads();
  int64_t block = 64;
  while (block > 16 && n < 8 * threads * block) block /= 2;
  return block;
}

struct Kernels {
  void (*gemv)(const vector::GemvArgs&, int64_t, int64_t);
  void (*matmul)(const vector::MatmulArgs&, int64_t, int64_t);
};

Kernels kernels_for(program::DType dtype) {
  switch (dtype) {
    case program::DType::f16: return {vector::gemv_f16, vector::matmul_f16};
    case program::DType::bf16: return {vector::gemv_bf16, vector::matmul_bf16};
    default: return {vector::gemv_f32, vector::matmul_f32};
  }
}

}  // namespace

void project_simd(const float* x, int64_t rows, int64_t k, const void* w, program::DType w_dtype, bool transpose_b,
                  int64_t n, const float* bias, float* y) {
  const vector::WeightLayout layout = transpose_b ? vector::WeightLayout::n_by_k : vector::WeightLayout::k_by_n;
  const Kernels kernels = kernels_for(w_dtype);
  const int64_t block = column_block(n);
  const int64_t blocks = (n + block - 1) / block;
  parallel_for(blocks, rows * k * block, [&](int64_t begin, int64_t end) {
    const int64_t first = begin * block, last = std::min(n, end * block);
    if (rows == 1) {
      kernels.gemv({.x = x, .w = w, .bias = bias, .y = y, .n = n, .k = k, .layout = layout}, first, last);
    } else {
      kernels.matmul({.x = x, .w = w, .bias = bias, .y = y, .m = rows, .n = n, .k = k, .layout = layout}, first, last);
    }
  });
}

}  // namespace kiln::kernels::cpu
