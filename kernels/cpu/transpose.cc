// transpose(x) {perm}: result dim i is input dim perm[i].

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/op_kernels.h"

namespace kiln::kernels::cpu {
namespace {

std::vector<int64_t> row_major_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

}  // namespace

absl::Status run_transpose(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 1, 1, 1); !s.ok()) return s;
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  const size_t rank = x.shape.size();
  std::vector<int64_t> perm;
  for (size_t i = 0; i < rank; ++i) perm.push_back(args.param(absl::StrCat("perm", i)));
  if (perm.size() != rank) {
    return kernel_error(args, absl::StrCat("perm ", dims_string(perm), " does not match rank ", rank));
  }
  std::vector<int64_t> out_shape;
  std::vector<bool> seen(rank, false);
  for (int64_t axis : perm) {
    if (axis < 0 || axis >= static_cast<int64_t>(rank) || seen[axis]) {
      return kernel_error(args, absl::StrCat("perm ", dims_string(perm), " is not a permutation of 0..", rank - 1));
    }
    seen[axis] = true;
    out_shape.push_back(x.shape[axis]);
  }
  if (absl::Status s = expect_shape(args, "output 0", y, out_shape); !s.ok()) return s;
  if (x.dtype != y.dtype) return kernel_error(args, "the result's dtype must be the input's");
  // Walks the result in order, carrying the input offset along with an
  // index odometer over the result's dims.
  const std::vector<int64_t> in_strides = row_major_strides(x.shape);
  std::vector<int64_t> index(rank, 0);
  const int64_t element_bytes = program::dtype_bytes(x.dtype, 1);
  int64_t source = 0;
  for (int64_t i = 0; i < y.elements(); ++i) {
    std::memcpy(y.data + i * element_bytes, x.data + source * element_bytes, element_bytes);
    for (size_t d = rank; d-- > 0;) {
      source += in_strides[perm[d]];
      if (++index[d] < out_shape[d]) break;
      source -= in_strides[perm[d]] * out_shape[d];
      index[d] = 0;
    }
  }
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
