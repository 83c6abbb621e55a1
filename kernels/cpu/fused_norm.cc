// matmul_rmsnorm(x, w, g [, residual]) -> (sum, normed), sum = x @ w (+ residual)
// residual_rmsnorm(a, b, g)            -> (sum, normed), sum = a + b
// residual_layernorm(a, b, g [, beta]) -> (sum, normed), sum = a + b
// normed = rmsnorm(sum, g) or layernorm(sum, g (, beta)) over the last dim.
// The sum is rounded to f32, as the unfused graph stores it, and written as
// result 0; the norm is computed from those f32 values in f64, as the
// rmsnorm and layernorm kernels compute it. Result 0 may share storage with
// operand a (OpDef::may_write_in_place_over): every sum is computed before
// any is written.

#include <cmath>

#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/fused_kernels.h"
#include "kernels/cpu/fused_projection.h"
#include "kernels/cpu/rows.h"

namespace kiln::kernels::cpu {
namespace {

// One row's normalisation, `sum` in, result 1 out at element `base`.
using NormRow = void (*)(const KernelArgs& args, const float* sum, int64_t d, int64_t base);

void rmsnorm_row(const KernelArgs& args, const float* sum, int64_t d, int64_t base) {
  const TensorView& g = args.inputs[2];
  double squares = 0.0;
  for (int64_t i = 0; i < d; ++i) squares += static_cast<double>(sum[i]) * sum[i];
  const double inverse_rms = 1.0 / std::sqrt(squares / static_cast<double>(d) + real_constant(args, "eps"));
  for (int64_t i = 0; i < d; ++i) args.outputs[1].store(base + i, static_cast<float>(sum[i] * inverse_rms * g.load(i)));
}

// layernorm's bias, when given, is operand 3.
void layernorm_row(const KernelArgs& args, const float* sum, int64_t d, int64_t base) {
  const TensorView& g = args.inputs[2];
  const bool has_bias = args.inputs.size() == 4;
  double total = 0.0;
  for (int64_t i = 0; i < d; ++i) total += sum[i];
  const double mean = total / static_cast<double>(d);
  double squares = 0.0;
  for (int64_t i = 0; i < d; ++i) squares += (sum[i] - mean) * (sum[i] - mean);
  const double inverse_std = 1.0 / std::sqrt(squares / static_cast<double>(d) + real_constant(args, "eps"));
  for (int64_t i = 0; i < d; ++i) {
    const double bias = has_bias ? args.inputs[3].load(i) : 0.0;
    args.outputs[1].store(base + i, static_cast<float>((sum[i] - mean) * inverse_std * g.load(i) + bias));
  }
}

// Checks the `norm_weights` operands from operand 2 on (gain, then bias)
// against row length `d` and both results against `shape`, then writes
// `sums` and their norms.
absl::Status write_sum_and_norm(const KernelArgs& args, const std::vector<float>& sums,
                                const std::vector<int64_t>& shape, int norm_weights, NormRow norm) {
  const int64_t d = shape.empty() ? 1 : shape.back();
  for (int i = 2; i < 2 + norm_weights; ++i) {
    if (absl::Status s = expect_shape(args, "a norm weight", args.inputs[i], {d}); !s.ok()) return s;
  }
  for (const TensorView& output : args.outputs) {
    if (absl::Status s = expect_shape(args, "a result", output, shape); !s.ok()) return s;
  }
  for (size_t i = 0; i < sums.size(); ++i) args.outputs[0].store(static_cast<int64_t>(i), sums[i]);
  for (int64_t base = 0; base < static_cast<int64_t>(sums.size()); base += d) norm(args, sums.data() + base, d, base);
  return absl::OkStatus();
}

// a + b, both of one shape, rounded to f32.
absl::StatusOr<std::vector<float>> residual_sums(const KernelArgs& args) {
  const TensorView& a = args.inputs[0];
  const TensorView& b = args.inputs[1];
  if (absl::Status s = expect_shape(args, "operand 'b'", b, a.shape); !s.ok()) return s;
  std::vector<float> sums = floats_of(a);
  const std::vector<float> addend = floats_of(b);
  for (size_t i = 0; i < sums.size(); ++i) sums[i] = static_cast<float>(static_cast<double>(sums[i]) + addend[i]);
  return sums;
}

absl::Status matmul_rmsnorm(const KernelArgs& args, ProjectFn project) {
  if (absl::Status s = expect_arity(args, 3, 4, 2); !s.ok()) return s;
  const TensorView& x = args.inputs[0];
  absl::StatusOr<Weight> w =
      weight_operand(args, "w", args.inputs[1], bool_constant(args, "transpose_b"), row_length(x));
  if (!w.ok()) return w.status();
  std::vector<int64_t> shape = x.shape;
  shape.back() = w->n;
  const std::vector<double> products = project(floats_of(x), row_count(x), *w);
  std::vector<float> sums(products.begin(), products.end());
  if (args.inputs.size() == 4) {
    const TensorView& residual = args.inputs[3];
    if (absl::Status s = expect_shape(args, "operand 'residual'", residual, shape); !s.ok()) return s;
    for (size_t i = 0; i < sums.size(); ++i) {
      sums[i] = static_cast<float>(static_cast<double>(residual.load(static_cast<int64_t>(i))) + sums[i]);
    }
  }
  return write_sum_and_norm(args, sums, shape, 1, rmsnorm_row);
}

}  // namespace

absl::Status run_matmul_rmsnorm(const KernelArgs& args) { return matmul_rmsnorm(args, project); }

absl::Status run_residual_rmsnorm(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 3, 3, 2); !s.ok()) return s;
  absl::StatusOr<std::vector<float>> sums = residual_sums(args);
  if (!sums.ok()) return sums.status();
  return write_sum_and_norm(args, *sums, args.inputs[0].shape, 1, rmsnorm_row);
}

absl::Status run_residual_layernorm(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 3, 4, 2); !s.ok()) return s;
  absl::StatusOr<std::vector<float>> sums = residual_sums(args);
  if (!sums.ok()) return sums.status();
  return write_sum_and_norm(args, *sums, args.inputs[0].shape, static_cast<int>(args.inputs.size()) - 2,
                            layernorm_row);
}

}  // namespace kiln::kernels::cpu
