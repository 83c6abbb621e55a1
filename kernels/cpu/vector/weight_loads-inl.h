// Loads of weight (and activation) vectors as f32, per Highway target: f32
// as stored, IEEE binary16 and bfloat16 widened in registers. Included by
// each kernel source once per target (foreach_target), hence the toggling
// include guard Highway prescribes for -inl.h files.

#if defined(KILN_KERNELS_CPU_VECTOR_WEIGHT_LOADS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_KERNELS_CPU_VECTOR_WEIGHT_LOADS_INL_H_
#undef KILN_KERNELS_CPU_VECTOR_WEIGHT_LOADS_INL_H_
#else
#define KILN_KERNELS_CPU_VECTOR_WEIGHT_LOADS_INL_H_
#endif

#include <cstring>

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::cpu::vector::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The f32 vector descriptor every kernel computes in.
using FloatTag = hn::ScalableTag<float>;
using FloatVec = hn::Vec<FloatTag>;

// Lanes(FloatTag) elements starting at `p`, any alignment, as f32.
HWY_INLINE FloatVec load_f32(FloatTag df, const float* HWY_RESTRICT p) { return hn::LoadU(df, p); }

HWY_INLINE FloatVec load_f32(FloatTag df, const hwy::float16_t* HWY_RESTRICT p) {
  const hn::Rebind<hwy::float16_t, FloatTag> dh;
  return hn::PromoteTo(df, hn::LoadU(dh, p));
}

HWY_INLINE FloatVec load_f32(FloatTag df, const hwy::bfloat16_t* HWY_RESTRICT p) {
  const hn::Rebind<hwy::bfloat16_t, FloatTag> dbf;
  return hn::PromoteTo(df, hn::LoadU(dbf, p));
}

// The `count` (< Lanes) elements at `p` as f32, the other lanes zero, so
// they add nothing to a dot product. Reads nothing at or past p + count.
template <typename T>
HWY_INLINE FloatVec load_f32_partial(FloatTag df, const T* HWY_RESTRICT p, size_t count) {
  HWY_ALIGN T padded[HWY_MAX_BYTES / sizeof(float)] = {};
  std::memcpy(padded, p, count * sizeof(T));
  return load_f32(df, padded);
}

// Stores the first `count` (< Lanes) lanes of `v` at `p`, writing nothing
// at or past p + count.
HWY_INLINE void store_partial(FloatTag df, FloatVec v, float* HWY_RESTRICT p, size_t count) {
  HWY_ALIGN float lanes[HWY_MAX_BYTES / sizeof(float)];
  hn::Store(v, df, lanes);
  std::memcpy(p, lanes, count * sizeof(float));
}

// The sum of v's lanes.
HWY_INLINE float sum_lanes(FloatTag df, FloatVec v) { return hn::GetLane(hn::SumOfLanes(df, v)); }

}  // namespace kiln::kernels::cpu::vector::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
