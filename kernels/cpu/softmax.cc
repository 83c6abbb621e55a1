// softmax(x) over the last axis: exp(x - max) / sum(exp(x - max)), the sum
// in f64. May run in place: each element is read before it is written.

#include <cmath>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/rows.h"

namespace kiln::kernels::cpu {

absl::Status run_softmax(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 1, 1, 1); !s.ok()) return s;
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  const int64_t axis = int_constant(args, "axis");
  if (axis != -1 && axis != rank - 1) {
    return kernel_error(args, absl::StrCat("softmax supports only the last axis, got axis ", axis));
  }
  if (absl::Status s = expect_shape(args, "output 0", y, x.shape); !s.ok()) return s;
  const int64_t d = row_length(x);
  parallel_for(row_count(x), 16 * d, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t base = row * d;
      double max = -INFINITY;
      for (int64_t i = 0; i < d; ++i) max = std::max<double>(max, x.load(base + i));
      double sum = 0.0;
      for (int64_t i = 0; i < d; ++i) sum += std::exp(x.load(base + i) - max);
      for (int64_t i = 0; i < d; ++i) y.store(base + i, static_cast<float>(std::exp(x.load(base + i) - max) / sum));
    }
  });
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
