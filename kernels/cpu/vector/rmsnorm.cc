// rmsnorm, one row: a pass summing squares (of x, or of x + residual,
// stored as it goes), then a pass scaling by the inverse rms and the gain.

#include "kernels/cpu/vector/rmsnorm.h"

#include <cmath>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/vector/rmsnorm.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/cpu/vector/weight_loads-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::cpu::vector::HWY_NAMESPACE {
namespace {

// The row to normalise at [i, i + lanes) (or its first `count` elements
// when kPartial), storing it to a.sum when it is x + residual.
template <bool kPartial>
HWY_INLINE FloatVec row_at(FloatTag df, const RmsnormRowArgs& a, size_t i, size_t count) {
  const FloatVec x = kPartial ? load_f32_partial(df, a.x + i, count) : hn::LoadU(df, a.x + i);
  if (!a.residual) return x;
  const FloatVec s =
      hn::Add(x, kPartial ? load_f32_partial(df, a.residual + i, count) : hn::LoadU(df, a.residual + i));
  if (kPartial) {
    store_partial(df, s, a.sum + i, count);
  } else {
    hn::StoreU(s, df, a.sum + i);
  }
  return s;
}

template <typename T>
void rmsnorm_row(const RmsnormRowArgs& a) {
  const FloatTag df;
  const size_t lanes = hn::Lanes(df);
  const size_t d = static_cast<size_t>(a.d);
  const T* g = static_cast<const T*>(a.g);
  FloatVec even = hn::Zero(df), odd = hn::Zero(df);
  size_t i = 0;
  for (; i + 2 * lanes <= d; i += 2 * lanes) {
    const FloatVec first = row_at<false>(df, a, i, 0), second = row_at<false>(df, a, i + lanes, 0);
    even = hn::MulAdd(first, first, even);
    odd = hn::MulAdd(second, second, odd);
  }
  for (; i + lanes <= d; i += lanes) {
    const FloatVec v = row_at<false>(df, a, i, 0);
    even = hn::MulAdd(v, v, even);
  }
  if (i < d) {
    const FloatVec v = row_at<true>(df, a, i, d - i);
    odd = hn::MulAdd(v, v, odd);
  }
  const float squares = sum_lanes(df, hn::Add(even, odd));
  const FloatVec inverse_rms = hn::Set(df, 1.0f / std::sqrt(squares / static_cast<float>(d) + a.eps));
  const float* row = a.residual ? a.sum : a.x;
  for (i = 0; i + lanes <= d; i += lanes) {
    hn::StoreU(hn::Mul(hn::Mul(hn::LoadU(df, row + i), inverse_rms), load_f32(df, g + i)), df, a.y + i);
  }
  if (i < d) {
    const FloatVec v = hn::Mul(hn::Mul(load_f32_partial(df, row + i, d - i), inverse_rms),
                               load_f32_partial(df, g + i, d - i));
    store_partial(df, v, a.y + i, d - i);
  }
}

}  // namespace

void rmsnorm_row_f32_target(const RmsnormRowArgs& a) { rmsnorm_row<float>(a); }
void rmsnorm_row_f16_target(const RmsnormRowArgs& a) { rmsnorm_row<hwy::float16_t>(a); }
void rmsnorm_row_bf16_target(const RmsnormRowArgs& a) { rmsnorm_row<hwy::bfloat16_t>(a); }

}  // namespace kiln::kernels::cpu::vector::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace kiln::kernels::cpu::vector {

HWY_EXPORT(rmsnorm_row_f32_target);
HWY_EXPORT(rmsnorm_row_f16_target);
HWY_EXPORT(rmsnorm_row_bf16_target);

void rmsnorm_row_f32(const RmsnormRowArgs& args) { HWY_DYNAMIC_DISPATCH(rmsnorm_row_f32_target)(args); }
void rmsnorm_row_f16(const RmsnormRowArgs& args) { HWY_DYNAMIC_DISPATCH(rmsnorm_row_f16_target)(args); }
void rmsnorm_row_bf16(const RmsnormRowArgs& args) { HWY_DYNAMIC_DISPATCH(rmsnorm_row_bf16_target)(args); }

}  // namespace kiln::kernels::cpu::vector
#endif
