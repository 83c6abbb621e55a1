// concat(x0, x1, ...) {axis}: joins the operands along `axis`; every other
// dim and the dtype agree.

#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/op_kernels.h"

namespace kiln::kernels::cpu {
namespace {

// The product of dims [from, to).
int64_t extent(const std::vector<int64_t>& shape, size_t from, size_t to) {
  int64_t product = 1;
  for (size_t i = from; i < to; ++i) product *= shape[i];
  return product;
}

absl::Status check_operands(const KernelArgs& args, size_t axis) {
  const TensorView& first = args.inputs[0];
  std::vector<int64_t> out_shape = first.shape;
  out_shape[axis] = 0;
  for (size_t i = 0; i < args.inputs.size(); ++i) {
    std::vector<int64_t> shape = args.inputs[i].shape;
    if (shape.size() != first.shape.size() || args.inputs[i].dtype != first.dtype) {
      return kernel_error(args, absl::StrCat("operand ", i, " differs from operand 0 in rank or dtype"));
    }
    out_shape[axis] += shape[axis];
    shape[axis] = first.shape[axis];
    if (shape != first.shape) {
      return kernel_error(args, absl::StrCat("operand ", i, " ", dims_string(args.inputs[i].shape),
                                             " differs from operand 0 ", dims_string(first.shape),
                                             " outside axis ", axis));
    }
  }
  if (args.outputs[0].dtype != first.dtype) return kernel_error(args, "the result's dtype must be the operands'");
  return expect_shape(args, "output 0", args.outputs[0], out_shape);
}

}  // namespace

absl::Status run_concat(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 1, std::numeric_limits<size_t>::max(), 1); !s.ok()) return s;
  const size_t rank = args.inputs[0].shape.size();
  int64_t axis = int_constant(args, "axis");
  if (axis < 0) axis += static_cast<int64_t>(rank);
  if (axis < 0 || axis >= static_cast<int64_t>(rank)) {
    return kernel_error(args, absl::StrCat("axis ", int_constant(args, "axis"), " is out of range for rank ", rank));
  }
  if (absl::Status s = check_operands(args, axis); !s.ok()) return s;
  const TensorView& out = args.outputs[0];
  const int64_t outer = extent(out.shape, 0, axis);
  const int64_t element_bytes = program::dtype_bytes(out.dtype, 1);
  const int64_t out_row = extent(out.shape, axis, rank) * element_bytes;
  int64_t column = 0;  // bytes into each result row where the operand starts
  for (const TensorView& in : args.inputs) {
    const int64_t in_row = extent(in.shape, axis, rank) * element_bytes;
    for (int64_t o = 0; o < outer; ++o) std::memcpy(out.data + o * out_row + column, in.data + o * in_row, in_row);
    column += in_row;
  }
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
