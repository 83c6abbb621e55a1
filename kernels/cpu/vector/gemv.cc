// gemv: each range of outputs is covered by tiles of one x row. Decode reads
// every weight once, so the kernel is bound by memory bandwidth; the tiles
// keep several weight streams in flight and leave the adds independent.

#include "kernels/cpu/vector/gemv.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/vector/gemv.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/cpu/vector/axpy_tile-inl.h"
#include "kernels/cpu/vector/dot_tile-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::cpu::vector::HWY_NAMESPACE {
namespace {

// n_by_k: weight rows dotted with x at once (eight streams, eight
// accumulators). The rows of a range are contiguous, so while one tile is
// read the next is prefetched (see dot_tile).
constexpr size_t kDotRows = 8;
// k_by_n: vectors of columns summed at once.
constexpr size_t kAxpyVectors = 4;

template <typename T>
void gemv_n_by_k(const GemvArgs& a, size_t n_begin, size_t n_end) {
  const T* w = static_cast<const T*>(a.w);
  const size_t k = static_cast<size_t>(a.k);
  size_t n = n_begin;
  for (; n + kDotRows <= n_end; n += kDotRows) {
    const T* next = n + 2 * kDotRows <= n_end ? w + (n + kDotRows) * k : nullptr;
    dot_tile<1, kDotRows>(a.x, w + n * k, next, k, a.bias ? a.bias + n : nullptr, a.y + n, 0);
  }
  for (; n < n_end; ++n) dot_tile<1, 1>(a.x, w + n * k, nullptr, k, a.bias ? a.bias + n : nullptr, a.y + n, 0);
}

template <typename T>
void gemv_k_by_n(const GemvArgs& a, size_t n_begin, size_t n_end) {
  const size_t lanes = hn::Lanes(FloatTag());
  auto at = [&](size_t n) {
    return AxpyOperands<T>{a.x, 0, static_cast<const T*>(a.w) + n, static_cast<size_t>(a.n), static_cast<size_t>(a.k),
                           a.bias ? a.bias + n : nullptr, a.y + n, 0};
  };
  size_t n = n_begin;
  for (; n + kAxpyVectors * lanes <= n_end; n += kAxpyVectors * lanes) axpy_tile<1, kAxpyVectors, false>(at(n), 0);
  for (; n + lanes <= n_end; n += lanes) axpy_tile<1, 1, false>(at(n), 0);
  if (n < n_end) axpy_tile<1, 1, true>(at(n), n_end - n);
}

template <typename T>
void gemv(const GemvArgs& a, int64_t n_begin, int64_t n_end) {
  if (a.layout == WeightLayout::n_by_k) {
    gemv_n_by_k<T>(a, static_cast<size_t>(n_begin), static_cast<size_t>(n_end));
  } else {
    gemv_k_by_n<T>(a, static_cast<size_t>(n_begin), static_cast<size_t>(n_end));
  }
}

}  // namespace

void gemv_f32_target(const GemvArgs& a, int64_t n_begin, int64_t n_end) { gemv<float>(a, n_begin, n_end); }
void gemv_f16_target(const GemvArgs& a, int64_t n_begin, int64_t n_end) { gemv<hwy::float16_t>(a, n_begin, n_end); }
void gemv_bf16_target(const GemvArgs& a, int64_t n_begin, int64_t n_end) { gemv<hwy::bfloat16_t>(a, n_begin, n_end); }

}  // namespace kiln::kernels::cpu::vector::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace kiln::kernels::cpu::vector {

HWY_EXPORT(gemv_f32_target);
HWY_EXPORT(gemv_f16_target);
HWY_EXPORT(gemv_bf16_target);

void gemv_f32(const GemvArgs& args, int64_t n_begin, int64_t n_end) {
  HWY_DYNAMIC_DISPATCH(gemv_f32_target)(args, n_begin, n_end);
}
void gemv_f16(const GemvArgs& args, int64_t n_begin, int64_t n_end) {
  HWY_DYNAMIC_DISPATCH(gemv_f16_target)(args, n_begin, n_end);
}
void gemv_bf16(const GemvArgs& args, int64_t n_begin, int64_t n_end) {
  HWY_DYNAMIC_DISPATCH(gemv_bf16_target)(args, n_begin, n_end);
}

}  // namespace kiln::kernels::cpu::vector
#endif
