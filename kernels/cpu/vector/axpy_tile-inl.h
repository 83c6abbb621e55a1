// The register tile of the k_by_n layout, per Highway target: R rows of y,
// V vectors of columns wide, each built as a sum over k of x[r, k] times the
// contiguous W[k, columns]. Each W vector is widened once and used for all
// R rows; the R * V accumulators are independent and are the outputs
// themselves, so no horizontal sums are needed.
//
// Every loop over R, C or V is unrolled by HWY_UNROLL: GCC at -O2 leaves
// them rolled, and the arrays of accumulators then live on the stack, a
// load and a store around every multiply-add (the 64 x 576 x 576 f32
// matmul ran at 29 GFLOP/s on one Zen 4 core that way, 97 unrolled).

#if defined(KILN_KERNELS_CPU_VECTOR_AXPY_TILE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_KERNELS_CPU_VECTOR_AXPY_TILE_INL_H_
#undef KILN_KERNELS_CPU_VECTOR_AXPY_TILE_INL_H_
#else
#define KILN_KERNELS_CPU_VECTOR_AXPY_TILE_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/cpu/vector/weight_loads-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::cpu::vector::HWY_NAMESPACE {

// Where a tile's operands are: x rows x_stride apart, W rows w_stride apart
// (both in elements), y rows y_stride apart; bias (or null) and w and y
// point at the tile's first column.
template <typename T>
struct AxpyOperands {
  const float* HWY_RESTRICT x;
  size_t x_stride;
  const T* HWY_RESTRICT w;
  size_t w_stride;
  size_t k;
  const float* HWY_RESTRICT bias;
  float* HWY_RESTRICT y;
  size_t y_stride;
};

// y[r, j] = bias[j] + sum_i x[r, i] * w[i, j] for r < R and the
// V * Lanes columns j of the tile, or its first `count` (< Lanes) columns
// when kPartial (then V is 1). Reads and writes no other column.
template <size_t R, size_t V, bool kPartial, typename T>
HWY_INLINE void axpy_tile(const AxpyOperands<T>& o, size_t count) {
  static_assert(!kPartial || V == 1, "a partial tile is one vector wide");
  const FloatTag df;
  const size_t lanes = hn::Lanes(df);
  FloatVec acc[R][V];
  HWY_UNROLL(32)
  for (size_t v = 0; v < V; ++v) {
    const FloatVec b = !o.bias ? hn::Zero(df)
                       : kPartial ? load_f32_partial(df, o.bias, count)
                                  : load_f32(df, o.bias + v * lanes);
    HWY_UNROLL(32)
    for (size_t r = 0; r < R; ++r) acc[r][v] = b;
  }
  for (size_t i = 0; i < o.k; ++i) {
    const T* HWY_RESTRICT w_row = o.w + i * o.w_stride;
    FloatVec wv[V];
    HWY_UNROLL(32)
    for (size_t v = 0; v < V; ++v) {
      wv[v] = kPartial ? load_f32_partial(df, w_row, count) : load_f32(df, w_row + v * lanes);
    }
    HWY_UNROLL(32)
    for (size_t r = 0; r < R; ++r) {
      const FloatVec xv = hn::Set(df, o.x[r * o.x_stride + i]);
      HWY_UNROLL(32)
      for (size_t v = 0; v < V; ++v) acc[r][v] = hn::MulAdd(xv, wv[v], acc[r][v]);
    }
  }
  HWY_UNROLL(32)
  for (size_t r = 0; r < R; ++r) {
    HWY_UNROLL(32)
    for (size_t v = 0; v < V; ++v) {
      float* HWY_RESTRICT y = o.y + r * o.y_stride + v * lanes;
      if (kPartial) {
        store_partial(df, acc[r][v], y, count);
      } else {
        hn::StoreU(acc[r][v], df, y);
      }
    }
  }
}

}  // namespace kiln::kernels::cpu::vector::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
