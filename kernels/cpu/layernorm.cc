// layernorm(x[..., D], w[D], b[D]?) = (x - mean) / sqrt(var + eps) * w (+ b)
// over the last dim, var being the biased variance (divided by D). Mean and
// variance are computed in f64, the variance from a second pass over the
// centred values.

#include <cmath>

#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/rows.h"

namespace kiln::kernels::cpu {

absl::Status run_layernorm(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 2, 3, 1); !s.ok()) return s;
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  const int64_t d = row_length(x);
  if (absl::Status s = expect_shape(args, "operand 'w'", args.inputs[1], {d}); !s.ok()) return s;
  const bool has_bias = args.inputs.size() == 3;
  if (has_bias) {
    if (absl::Status s = expect_shape(args, "operand 'b'", args.inputs[2], {d}); !s.ok()) return s;
  }
  if (absl::Status s = expect_shape(args, "output 0", y, x.shape); !s.ok()) return s;
  const double eps = real_constant(args, "eps");
  parallel_for(row_count(x), 6 * d, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t base = row * d;
      double sum = 0.0;
      for (int64_t i = 0; i < d; ++i) sum += x.load(base + i);
      const double mean = sum / static_cast<double>(d);
      double squares = 0.0;
      for (int64_t i = 0; i < d; ++i) squares += (x.load(base + i) - mean) * (x.load(base + i) - mean);
      const double inverse_std = 1.0 / std::sqrt(squares / static_cast<double>(d) + eps);
      for (int64_t i = 0; i < d; ++i) {
        const double bias = has_bias ? args.inputs[2].load(i) : 0.0;
        y.store(base + i, static_cast<float>((x.load(base + i) - mean) * inverse_std * args.inputs[1].load(i) + bias));
      }
    }
  });
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
