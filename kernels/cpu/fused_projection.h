#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kernels/cpu/kernel.h"

namespace kiln::kernels::cpu {

// The matmul every fused kernel with a weight starts from: rows of an f32
// activation times a 2-D weight shared by every row.

// A 2-D weight `w`, [K, N], or [N, K] when transpose_b.
struct Weight {
  const TensorView* view = nullptr;
  bool transpose_b = false;
  int64_t k = 0;
  int64_t n = 0;
};

// Checks that operand `name` is 2-D with contraction dim `k`.
absl::StatusOr<Weight> weight_operand(const KernelArgs& args, const std::string& name, const TensorView& w,
                                      bool transpose_b, int64_t k);

// x [rows, w.k] (row-major f32) @ w -> [rows, w.n], unrounded. The
// reference fused kernels are written over a ProjectFn and given `project`
// (the vector variants, fused_vector.cc, call project_simd themselves).
using ProjectFn = std::vector<double> (*)(const std::vector<float>& x, int64_t rows, const Weight& w);

// The reference: each sum of f32 products accumulated in f64. Parallel
// over output columns, so each column of w is converted once.
std::vector<double> project(const std::vector<float>& x, int64_t rows, const Weight& w);

// Every element of `view` as f32.
std::vector<float> floats_of(const TensorView& view);

}  // namespace kiln::kernels::cpu
