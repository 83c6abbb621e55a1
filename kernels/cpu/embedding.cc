// embedding(table[V, D], ids[...]) -> [..., D]: row ids[i] of the table for
// each id, in the table's dtype. An id outside [0, V) is an error naming it.

#include <cstring>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/op_kernels.h"

namespace kiln::kernels::cpu {

absl::Status run_embedding(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 2, 2, 1); !s.ok()) return s;
  const TensorView& table = args.inputs[0];
  const TensorView& ids = args.inputs[1];
  const TensorView& out = args.outputs[0];
  if (table.shape.size() != 2 || ids.dtype != program::DType::i32 || out.dtype != table.dtype) {
    return kernel_error(args, "expected a [vocab, dim] table, i32 ids and a result in the table's dtype");
  }
  const int64_t vocab = table.dim(0), dim = table.dim(1);
  std::vector<int64_t> out_shape = ids.shape;
  out_shape.push_back(dim);
  if (absl::Status s = expect_shape(args, "output 0", out, out_shape); !s.ok()) return s;
  const int64_t row_bytes = program::dtype_bytes(table.dtype, dim);
  for (int64_t i = 0; i < ids.elements(); ++i) {
    int32_t id;
    std::memcpy(&id, ids.data + 4 * i, sizeof id);
    if (id < 0 || id >= vocab) {
      return kernel_error(args, absl::StrCat("token id ", id, " at index ", i, " is outside [0, ", vocab, ")"));
    }
    std::memcpy(out.data + i * row_bytes, table.data + id * row_bytes, row_bytes);
  }
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
