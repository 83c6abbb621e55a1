// attention, one query row: each block of keys is scored (q . k_j, scaled),
// its scores exponentiated against the running maximum, and the values
// summed with those weights into `out`, which is first rescaled by
// exp(old maximum - new maximum), as is the running sum; `out` is divided
// by the sum at the end.

#include "kernels/cpu/vector/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/vector/attention.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"
#include "kernels/cpu/vector/weight_loads-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::cpu::vector::HWY_NAMESPACE {
namespace {

// Keys scored at once; their scores wait on the stack (256 bytes) for the
// value pass. A multiple of every target's lane count.
constexpr size_t kBlock = 64;

// q . row over `dim` elements: two accumulators, then a partial vector.
template <typename T>
HWY_INLINE float dot(FloatTag df, const float* HWY_RESTRICT q, const T* HWY_RESTRICT row, size_t dim) {
  const size_t lanes = hn::Lanes(df);
  FloatVec even = hn::Zero(df), odd = hn::Zero(df);
  size_t i = 0;
  for (; i + 2 * lanes <= dim; i += 2 * lanes) {
    even = hn::MulAdd(hn::LoadU(df, q + i), load_f32(df, row + i), even);
    odd = hn::MulAdd(hn::LoadU(df, q + i + lanes), load_f32(df, row + i + lanes), odd);
  }
  if (i + lanes <= dim) {
    even = hn::MulAdd(hn::LoadU(df, q + i), load_f32(df, row + i), even);
    i += lanes;
  }
  if (i < dim) odd = hn::MulAdd(load_f32_partial(df, q + i, dim - i), load_f32_partial(df, row + i, dim - i), odd);
  return sum_lanes(df, hn::Add(even, odd));
}

// out[d, d + C * lanes) = out * correction + sum_j weights[j] * v_j[same],
// or its first `count` (< lanes) elements when kPartial (then C is 1). The C
// accumulators are independent chains over the keys.
template <size_t C, bool kPartial, typename T>
HWY_INLINE void add_values(FloatTag df, const float* HWY_RESTRICT weights, size_t n, const T* HWY_RESTRICT v,
                           size_t stride, float correction, float* HWY_RESTRICT out, size_t count) {
  static_assert(!kPartial || C == 1, "a partial chunk is one vector wide");
  const size_t lanes = hn::Lanes(df);
  const FloatVec scale = hn::Set(df, correction);
  FloatVec acc[C];
  HWY_UNROLL(4)
  for (size_t c = 0; c < C; ++c) {
    acc[c] = hn::Mul(kPartial ? load_f32_partial(df, out, count) : hn::LoadU(df, out + c * lanes), scale);
  }
  for (size_t j = 0; j < n; ++j) {
    const FloatVec w = hn::Set(df, weights[j]);
    const T* HWY_RESTRICT row = v + j * stride;
    HWY_UNROLL(4)
    for (size_t c = 0; c < C; ++c) {
      acc[c] = hn::MulAdd(w, kPartial ? load_f32_partial(df, row, count) : load_f32(df, row + c * lanes), acc[c]);
    }
  }
  HWY_UNROLL(4)
  for (size_t c = 0; c < C; ++c) {
    if (kPartial) {
      store_partial(df, acc[c], out, count);
    } else {
      hn::StoreU(acc[c], df, out + c * lanes);
    }
  }
}

template <typename T>
void attend(const AttentionRowArgs& a) {
  const FloatTag df;
  const size_t lanes = hn::Lanes(df);
  const T* k = static_cast<const T*>(a.k);
  const T* v = static_cast<const T*>(a.v);
  const size_t dim = static_cast<size_t>(a.head_dim), stride = static_cast<size_t>(a.row_stride);
  const size_t keys = static_cast<size_t>(a.keys);
  std::memset(a.out, 0, dim * sizeof(float));
  float max = -std::numeric_limits<float>::infinity();
  float sum = 0.0f;
  HWY_ALIGN float scores[kBlock];
  for (size_t begin = 0; begin < keys; begin += kBlock) {
    const size_t n = std::min(kBlock, keys - begin);
    float block_max = -std::numeric_limits<float>::infinity();
    for (size_t j = 0; j < n; ++j) {
      scores[j] = a.scale * dot(df, a.q, k + (begin + j) * stride, dim);
      block_max = std::max(block_max, scores[j]);
    }
    // exp(-inf) is 0: the lanes past n add nothing.
    std::fill(scores + n, scores + kBlock, -std::numeric_limits<float>::infinity());
    const float new_max = std::max(max, block_max);
    const float correction = std::exp(max - new_max);  // 0 for the first block
    const FloatVec shift = hn::Set(df, new_max);
    FloatVec total = hn::Zero(df);
    for (size_t j = 0; j < n; j += lanes) {
      const FloatVec w = hn::Exp(df, hn::Sub(hn::Load(df, scores + j), shift));
      hn::Store(w, df, scores + j);
      total = hn::Add(total, w);
    }
    sum = sum * correction + sum_lanes(df, total);
    const T* block_v = v + begin * stride;
    size_t d = 0;
    for (; d + 4 * lanes <= dim; d += 4 * lanes) {
      add_values<4, false>(df, scores, n, block_v + d, stride, correction, a.out + d, 0);
    }
    if (d + 2 * lanes <= dim) {
      add_values<2, false>(df, scores, n, block_v + d, stride, correction, a.out + d, 0);
      d += 2 * lanes;
    }
    if (d + lanes <= dim) {
      add_values<1, false>(df, scores, n, block_v + d, stride, correction, a.out + d, 0);
      d += lanes;
    }
    if (d < dim) add_values<1, true>(df, scores, n, block_v + d, stride, correction, a.out + d, dim - d);
    max = new_max;
  }
  for (size_t d = 0; d < dim; ++d) a.out[d] /= sum;
}

}  // namespace

void attend_row_f32_target(const AttentionRowArgs& a) { attend<float>(a); }
void attend_row_f16_target(const AttentionRowArgs& a) { attend<hwy::float16_t>(a); }
void attend_row_bf16_target(const AttentionRowArgs& a) { attend<hwy::bfloat16_t>(a); }

}  // namespace kiln::kernels::cpu::vector::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace kiln::kernels::cpu::vector {

HWY_EXPORT(attend_row_f32_target);
HWY_EXPORT(attend_row_f16_target);
HWY_EXPORT(attend_row_bf16_target);

void attend_row_f32(const AttentionRowArgs& args) { HWY_DYNAMIC_DISPATCH(attend_row_f32_target)(args); }
void attend_row_f16(const AttentionRowArgs& args) { HWY_DYNAMIC_DISPATCH(attend_row_f16_target)(args); }
void attend_row_bf16(const AttentionRowArgs& args) { HWY_DYNAMIC_DISPATCH(attend_row_bf16_target)(args); }

}  // namespace kiln::kernels::cpu::vector
#endif
