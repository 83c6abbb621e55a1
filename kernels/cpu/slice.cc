// slice(x) {axis, start, end}: x[start:end] along one axis, with Python's
// negative indices and end = 0 meaning "to the end". The bounds are taken
// against the dim's value in this step, so a symbolic dim sliced to a suffix
// (the last token's row) reads the step's last rows.

#include <cstring>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/op_kernels.h"

namespace kiln::kernels::cpu {

absl::Status run_slice(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 1, 1, 1); !s.ok()) return s;
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  int64_t axis = int_constant(args, "axis");
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) {
    return kernel_error(args, absl::StrCat("axis ", int_constant(args, "axis"), " is out of range for rank ", rank));
  }
  const int64_t start = int_constant(args, "start"), end = int_constant(args, "end");
  const int64_t size = x.dim(axis);
  const int64_t lo = start < 0 ? start + size : start;
  const int64_t hi = end <= 0 ? end + size : end;
  if (lo < 0 || hi > size || lo >= hi) {
    return kernel_error(args, absl::StrCat("slice [", start, ", ", end, ") is empty or out of range for dim ", size));
  }
  std::vector<int64_t> out_shape = x.shape;
  out_shape[axis] = hi - lo;
  if (absl::Status s = expect_shape(args, "output 0", y, out_shape); !s.ok()) return s;
  if (x.dtype != y.dtype) return kernel_error(args, "the result's dtype must be the input's");
  int64_t outer = 1, inner = program::dtype_bytes(x.dtype, 1);
  for (int64_t i = 0; i < axis; ++i) outer *= x.shape[i];
  for (int64_t i = axis + 1; i < rank; ++i) inner *= x.shape[i];
  for (int64_t o = 0; o < outer; ++o) {
    std::memmove(y.data + o * (hi - lo) * inner, x.data + (o * size + lo) * inner, (hi - lo) * inner);
  }
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
