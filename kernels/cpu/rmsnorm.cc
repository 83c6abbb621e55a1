// rmsnorm(x[..., D], w[D]) = x / sqrt(mean(x^2) + eps) * w over the last dim.
// The mean of squares and the scaling are computed in f64.

#include <cmath>

#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/rows.h"

namespace kiln::kernels::cpu {

absl::Status run_rmsnorm(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 2, 2, 1); !s.ok()) return s;
  const TensorView& x = args.inputs[0];
  const TensorView& w = args.inputs[1];
  const TensorView& y = args.outputs[0];
  const int64_t d = row_length(x);
  if (absl::Status s = expect_shape(args, "operand 'w'", w, {d}); !s.ok()) return s;
  if (absl::Status s = expect_shape(args, "output 0", y, x.shape); !s.ok()) return s;
  const double eps = real_constant(args, "eps");
  parallel_for(row_count(x), 4 * d, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t base = row * d;
      double squares = 0.0;
      for (int64_t i = 0; i < d; ++i) squares += static_cast<double>(x.load(base + i)) * x.load(base + i);
      const double inverse_rms = 1.0 / std::sqrt(squares / static_cast<double>(d) + eps);
      for (int64_t i = 0; i < d; ++i) y.store(base + i, static_cast<float>(x.load(base + i) * inverse_rms * w.load(i)));
    }
  });
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
