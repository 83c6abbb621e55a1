#include "kernels/cpu/vector/gated.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/vector/gated.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"
#include "kernels/cpu/vector/weight_loads-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::cpu::vector::HWY_NAMESPACE {
namespace {

// silu(g) * u. For g below about -88, exp(-g) is infinite and the quotient
// -0, as silu's limit is.
HWY_INLINE FloatVec silu_times(FloatTag df, FloatVec g, FloatVec u) {
  const FloatVec denominator = hn::Add(hn::Set(df, 1.0f), hn::Exp(df, hn::Neg(g)));
  return hn::Mul(hn::Div(g, denominator), u);
}

}  // namespace

void silu_product_target(const float* gate, const float* up, float* out, int64_t count) {
  const FloatTag df;
  const size_t lanes = hn::Lanes(df), n = static_cast<size_t>(count);
  size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    hn::StoreU(silu_times(df, hn::LoadU(df, gate + i), hn::LoadU(df, up + i)), df, out + i);
  }
  if (i < n) {
    store_partial(df, silu_times(df, load_f32_partial(df, gate + i, n - i), load_f32_partial(df, up + i, n - i)),
                  out + i, n - i);
  }
}

}  // namespace kiln::kernels::cpu::vector::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace kiln::kernels::cpu::vector {

HWY_EXPORT(silu_product_target);

void silu_product(const float* gate, const float* up, float* out, int64_t count) {
  HWY_DYNAMIC_DISPATCH(silu_product_target)(gate, up, out, count);
}

}  // namespace kiln::kernels::cpu::vector
#endif
