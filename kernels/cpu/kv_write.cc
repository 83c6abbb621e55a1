// kv_write(cache[S, Hkv, Dh], x[T, Hkv, Dh]) writes x into rows [P, P + T)
// of the cache, converting to the cache's dtype, and returns the cache: the
// result is the cache's own storage (the op aliases operand 0), so the rows
// persist in the state region between runs.

#include <cstring>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/op_kernels.h"

namespace kiln::kernels::cpu {

absl::Status run_kv_write(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 2, 2, 1); !s.ok()) return s;
  const TensorView& cache = args.inputs[0];
  const TensorView& x = args.inputs[1];
  const TensorView& out = args.outputs[0];
  if (cache.shape.size() != 3 || x.shape.size() != 3 || cache.dim(1) != x.dim(1) || cache.dim(2) != x.dim(2)) {
    return kernel_error(args, absl::StrCat("expected cache [S, Hkv, Dh] and x [T, Hkv, Dh], got ",
                                           dims_string(cache.shape), " and ", dims_string(x.shape)));
  }
  if (out.data != cache.data || out.dtype != cache.dtype || out.shape != cache.shape) {
    return kernel_error(args, "the result must be the cache itself (same storage, dtype and shape)");
  }
  const int64_t past = args.param("past");
  if (past < 0 || past + x.dim(0) > cache.dim(0)) {
    return kernel_error(args, absl::StrCat("rows [", past, ", ", past + x.dim(0), ") do not fit the cache's ",
                                           cache.dim(0), " rows"));
  }
  const int64_t offset = past * cache.dim(1) * cache.dim(2);
  if (x.dtype == cache.dtype) {
    std::memcpy(cache.data + program::dtype_bytes(cache.dtype, offset), x.data, program::dtype_bytes(x.dtype, x.elements()));
    return absl::OkStatus();
  }
  for (int64_t i = 0; i < x.elements(); ++i) cache.store(offset + i, x.load(i));
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
