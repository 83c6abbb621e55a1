// The register tile of the n_by_k layout, per Highway target: R rows of x
// against C rows of W, each output a dot product over k. Each W vector is
// widened once and used for all R rows, each x vector once for all C rows,
// and the R * C accumulators are independent, so the loop runs at the
// multiplier's throughput rather than the adder's latency.
//
// Every loop over R, C or V is unrolled by HWY_UNROLL: GCC at -O2 leaves
// them rolled, and the arrays of accumulators then live on the stack, a
// load and a store around every multiply-add (the 64 x 576 x 576 f32
// matmul ran at 29 GFLOP/s on one Zen 4 core that way, 97 unrolled).

#if defined(KILN_KERNELS_CPU_VECTOR_DOT_TILE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_KERNELS_CPU_VECTOR_DOT_TILE_INL_H_
#undef KILN_KERNELS_CPU_VECTOR_DOT_TILE_INL_H_
#else
#define KILN_KERNELS_CPU_VECTOR_DOT_TILE_INL_H_
#endif

#include <type_traits>

#include "hwy/highway.h"
#include "kernels/cpu/vector/weight_loads-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::cpu::vector::HWY_NAMESPACE {

// acc[r][c] += x[r * k + i ..] * w[c * k + i ..] over one vector of lanes at
// i, or over the last `count` elements (the rest zero) when kPartial; and
// prefetches the same place in the rows of `next` unless it is null.
template <size_t R, size_t C, bool kPartial, typename T>
HWY_INLINE void dot_step(FloatTag df, FloatVec (&acc)[R][C], const float* HWY_RESTRICT x, const T* HWY_RESTRICT w,
                         const std::type_identity_t<T>* next, size_t k, size_t i, size_t count) {
  FloatVec wv[C];
  HWY_UNROLL(32)
  for (size_t c = 0; c < C; ++c) {
    if (next) __builtin_prefetch(next + c * k + i, 0, 2);
    wv[c] = kPartial ? load_f32_partial(df, w + c * k + i, count) : load_f32(df, w + c * k + i);
  }
  HWY_UNROLL(32)
  for (size_t r = 0; r < R; ++r) {
    const FloatVec xv = kPartial ? load_f32_partial(df, x + r * k + i, count) : load_f32(df, x + r * k + i);
    HWY_UNROLL(32)
    for (size_t c = 0; c < C; ++c) acc[r][c] = hn::MulAdd(xv, wv[c], acc[r][c]);
  }
}

// out[r * out_stride + c] = bias[c] + sum_i x[r * k + i] * w[c * k + i] for
// r < R, c < C. x and w are row-major with k elements a row; bias may be
// null. Reads exactly R rows of x and C rows of w. `next`, unless null, is
// the next C rows a caller will read: they are prefetched into L2 as w is
// read, so a stream of tiles keeps memory busy where the hardware
// prefetcher, seeing C short streams, waits for each to ramp up (on the
// development machine this took f16 gemv from 7 to 17 GB/s). L2, not L1:
// a tile is 9 to 18 KB at K = 576, too much to stage beside the one read.
template <size_t R, size_t C, typename T>
HWY_INLINE void dot_tile(const float* HWY_RESTRICT x, const T* HWY_RESTRICT w, const std::type_identity_t<T>* next,
                         size_t k, const float* HWY_RESTRICT bias, float* HWY_RESTRICT out, size_t out_stride) {
  const FloatTag df;
  const size_t lanes = hn::Lanes(df);
  FloatVec acc[R][C];
  HWY_UNROLL(32)
  for (size_t r = 0; r < R; ++r) {
    HWY_UNROLL(32)
    for (size_t c = 0; c < C; ++c) acc[r][c] = hn::Zero(df);
  }
  size_t i = 0;
  for (; i + lanes <= k; i += lanes) dot_step<R, C, false>(df, acc, x, w, next, k, i, 0);
  if (i < k) dot_step<R, C, true>(df, acc, x, w, next, k, i, k - i);
  HWY_UNROLL(32)
  for (size_t r = 0; r < R; ++r) {
    HWY_UNROLL(32)
    for (size_t c = 0; c < C; ++c) {
      out[r * out_stride + c] = sum_lanes(df, acc[r][c]) + (bias ? bias[c] : 0.0f);
    }
  }
}

}  // namespace kiln::kernels::cpu::vector::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
