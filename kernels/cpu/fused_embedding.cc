// embedding_cast(table[V, D], ids) {dtype} = cast(embedding(table, ids)):
// the reference gathers the rows in the table's dtype and converts them with
// the cast kernel, as the unfused graph does, so it is bit for bit that
// graph's result.

#include "kernels/cpu/checks.h"
#include "kernels/cpu/composed.h"
#include "kernels/cpu/fused_kernels.h"
#include "kernels/cpu/op_kernels.h"

namespace kiln::kernels::cpu {

absl::Status run_embedding_cast(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 2, 2, 1); !s.ok()) return s;
  const TensorView& out = args.outputs[0];
  Temporary rows(args.inputs[0].dtype, out.shape);
  if (absl::Status s = run_part(args, run_embedding, {args.inputs[0], args.inputs[1]}, {rows.view()}); !s.ok()) {
    return s;
  }
  return run_part(args, run_cast, {rows.view()}, {out});
}

}  // namespace kiln::kernels::cpu
