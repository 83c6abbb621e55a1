// argmax(x[..., D]) -> i32[...] (i32[1] for a 1-D x): the index of the
// largest value of each row, the first one on ties. As NumPy does, a NaN
// counts as the largest value.

#include <cmath>
#include <cstring>

#include "kernels/cpu/checks.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/rows.h"

namespace kiln::kernels::cpu {

absl::Status run_argmax(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 1, 1, 1); !s.ok()) return s;
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  if (x.shape.empty() || x.shape.back() == 0) return kernel_error(args, "needs a non-empty last dim");
  std::vector<int64_t> out_shape(x.shape.begin(), x.shape.end() - 1);
  if (out_shape.empty()) out_shape.push_back(1);
  if (absl::Status s = expect_shape(args, "output 0", y, out_shape); !s.ok()) return s;
  if (y.dtype != program::DType::i32) return kernel_error(args, "the result must be i32");
  const int64_t d = row_length(x);
  for (int64_t row = 0; row < row_count(x); ++row) {
    int32_t best = 0;
    for (int64_t i = 1; i < d && !std::isnan(x.load(row * d + best)); ++i) {
      const float value = x.load(row * d + i);
      if (value > x.load(row * d + best) || std::isnan(value)) best = static_cast<int32_t>(i);
    }
    std::memcpy(y.data + 4 * row, &best, sizeof best);
  }
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
