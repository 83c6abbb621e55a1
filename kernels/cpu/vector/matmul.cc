// matmul: rows of x are taken in blocks small enough to stay in L2; for each
// block, the range of outputs is swept in panels of W, each panel read from
// memory once and reused from L1 by every register tile of rows in the
// block. Tiles are as large as the target's vector registers allow.

#include "kernels/cpu/vector/matmul.h"

#include <algorithm>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/vector/matmul.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/cpu/vector/axpy_tile-inl.h"
#include "kernels/cpu/vector/dot_tile-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::cpu::vector::HWY_NAMESPACE {
namespace {

// Tile shapes: R * C (or R * V) accumulators, plus the C (V) widened weight
// vectors and one x vector, must fit the register file: 32 vector registers
// on AVX-512 and NEON, 16 on AVX2 and SSE4.
#if HWY_ARCH_X86 && HWY_TARGET > HWY_AVX3
constexpr size_t kDotRows = 4, kDotCols = 2;
constexpr size_t kAxpyRows = 4, kAxpyVectors = 2;
#else
constexpr size_t kDotRows = 4, kDotCols = 4;
constexpr size_t kAxpyRows = 6, kAxpyVectors = 4;
#endif

// Bytes of x a row block may hold, so that it stays in L2 beside the panels.
constexpr size_t kRowBlockBytes = 256 * 1024;

// Rows per block: a multiple of `tile_rows`, at least one tile.
size_t block_rows(size_t k, size_t tile_rows) {
  const size_t rows = kRowBlockBytes / (std::max<size_t>(k, 1) * sizeof(float));
  return std::max(tile_rows, rows / tile_rows * tile_rows);
}

// Rows [m_begin, m_end) of y, columns [n, n + C), against W rows n.. n + C.
template <size_t C, typename T>
void dot_panel(const MatmulArgs& a, size_t m_begin, size_t m_end, size_t n) {
  const size_t k = static_cast<size_t>(a.k), n_all = static_cast<size_t>(a.n);
  const T* w = static_cast<const T*>(a.w) + n * k;
  const float* bias = a.bias ? a.bias + n : nullptr;
  size_t m = m_begin;
  for (; m + kDotRows <= m_end; m += kDotRows) {
    dot_tile<kDotRows, C>(a.x + m * k, w, nullptr, k, bias, a.y + m * n_all + n, n_all);
  }
  for (; m < m_end; ++m) dot_tile<1, C>(a.x + m * k, w, nullptr, k, bias, a.y + m * n_all + n, n_all);
}

template <typename T>
void matmul_n_by_k(const MatmulArgs& a, size_t m_begin, size_t m_end, size_t n_begin, size_t n_end) {
  size_t n = n_begin;
  for (; n + kDotCols <= n_end; n += kDotCols) dot_panel<kDotCols, T>(a, m_begin, m_end, n);
  for (; n < n_end; ++n) dot_panel<1, T>(a, m_begin, m_end, n);
}

// Rows [m_begin, m_end) of y, the V vectors of columns from n (or `count`
// columns when kPartial).
template <size_t V, bool kPartial, typename T>
void axpy_panel(const MatmulArgs& a, size_t m_begin, size_t m_end, size_t n, size_t count) {
  const size_t k = static_cast<size_t>(a.k), n_all = static_cast<size_t>(a.n);
  auto at = [&](size_t m) {
    return AxpyOperands<T>{a.x + m * k, k, static_cast<const T*>(a.w) + n, n_all, k,
                           a.bias ? a.bias + n : nullptr, a.y + m * n_all + n, n_all};
  };
  size_t m = m_begin;
  for (; m + kAxpyRows <= m_end; m += kAxpyRows) axpy_tile<kAxpyRows, V, kPartial>(at(m), count);
  for (; m < m_end; ++m) axpy_tile<1, V, kPartial>(at(m), count);
}

template <typename T>
void matmul_k_by_n(const MatmulArgs& a, size_t m_begin, size_t m_end, size_t n_begin, size_t n_end) {
  const size_t lanes = hn::Lanes(FloatTag());
  size_t n = n_begin;
  for (; n + kAxpyVectors * lanes <= n_end; n += kAxpyVectors * lanes) {
    axpy_panel<kAxpyVectors, false, T>(a, m_begin, m_end, n, 0);
  }
  for (; n + lanes <= n_end; n += lanes) axpy_panel<1, false, T>(a, m_begin, m_end, n, 0);
  if (n < n_end) axpy_panel<1, true, T>(a, m_begin, m_end, n, n_end - n);
}

template <typename T>
void matmul(const MatmulArgs& a, int64_t n_begin, int64_t n_end) {
  const bool n_by_k = a.layout == WeightLayout::n_by_k;
  const size_t m_all = static_cast<size_t>(a.m);
  const size_t block = block_rows(static_cast<size_t>(a.k), n_by_k ? kDotRows : kAxpyRows);
  for (size_t m = 0; m < m_all; m += block) {
    const size_t m_end = std::min(m_all, m + block);
    if (n_by_k) {
      matmul_n_by_k<T>(a, m, m_end, static_cast<size_t>(n_begin), static_cast<size_t>(n_end));
    } else {
      matmul_k_by_n<T>(a, m, m_end, static_cast<size_t>(n_begin), static_cast<size_t>(n_end));
    }
  }
}

}  // namespace

void matmul_f32_target(const MatmulArgs& a, int64_t n_begin, int64_t n_end) { matmul<float>(a, n_begin, n_end); }
void matmul_f16_target(const MatmulArgs& a, int64_t n_begin, int64_t n_end) {
  matmul<hwy::float16_t>(a, n_begin, n_end);
}
void matmul_bf16_target(const MatmulArgs& a, int64_t n_begin, int64_t n_end) {
  matmul<hwy::bfloat16_t>(a, n_begin, n_end);
}

}  // namespace kiln::kernels::cpu::vector::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace kiln::kernels::cpu::vector {

HWY_EXPORT(matmul_f32_target);
HWY_EXPORT(matmul_f16_target);
HWY_EXPORT(matmul_bf16_target);

void matmul_f32(const MatmulArgs& args, int64_t n_begin, int64_t n_end) {
  HWY_DYNAMIC_DISPATCH(matmul_f32_target)(args, n_begin, n_end);
}
void matmul_f16(const MatmulArgs& args, int64_t n_begin, int64_t n_end) {
  HWY_DYNAMIC_DISPATCH(matmul_f16_target)(args, n_begin, n_end);
}
void matmul_bf16(const MatmulArgs& args, int64_t n_begin, int64_t n_end) {
  HWY_DYNAMIC_DISPATCH(matmul_bf16_target)(args, n_begin, n_end);
}

}  // namespace kiln::kernels::cpu::vector
#endif
