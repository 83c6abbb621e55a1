// attention, the "vector" variant: the same result as attention.cc for f32
// queries and results and a key/value cache of f32, f16 or bf16 (the
// --cache-type choices), one query row at a time through the SIMD kernel of
// kernels/cpu/vector/attention.h (f32, an online softmax over blocks of
// keys), read in place, allocating nothing. Query heads are split over the
// thread pool. The variant table (variant_rules.cc) sends here only nodes
// of that form; the kernel checks it again, since a kernel may be called on
// any Program.

#include <cmath>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/vector/attention.h"

namespace kiln::kernels::cpu {
namespace {

using RowFn = void (*)(const vector::AttentionRowArgs&);

// The kernel for the cache's dtype, or null when the form is not this
// variant's.
RowFn row_kernel(const KernelArgs& args) {
  const TensorView& q = args.inputs[0];
  const TensorView& k = args.inputs[1];
  if (q.dtype != program::DType::f32 || args.outputs[0].dtype != program::DType::f32 ||
      args.inputs[2].dtype != k.dtype) {
    return nullptr;
  }
  switch (k.dtype) {
    case program::DType::f32: return vector::attend_row_f32;
    case program::DType::f16: return vector::attend_row_f16;
    case program::DType::bf16: return vector::attend_row_bf16;
    default: return nullptr;
  }
}

// The shapes attention.cc checks, with its messages.
absl::Status check_shapes(const KernelArgs& args, int64_t past) {
  const TensorView& q = args.inputs[0];
  const TensorView& k = args.inputs[1];
  const TensorView& v = args.inputs[2];
  if (q.shape.size() != 3 || k.shape.size() != 3 || k.shape != v.shape) {
    return kernel_error(args, absl::StrCat("expected q [T, Hq, Dh] and k, v [S, Hkv, Dh] of one shape, got q ",
                                           dims_string(q.shape), ", k ", dims_string(k.shape), ", v ",
                                           dims_string(v.shape)));
  }
  if (k.dim(2) != q.dim(2) || k.dim(1) == 0 || q.dim(1) % k.dim(1) != 0) {
    return kernel_error(args, absl::StrCat("k ", dims_string(k.shape), " does not match q ", dims_string(q.shape),
                                           ": head_dim must agree and kv heads divide query heads"));
  }
  if (past < 0 || past + q.dim(0) > k.dim(0)) {
    return kernel_error(args, absl::StrCat("P + T = ", past, " + ", q.dim(0), " exceeds the ", k.dim(0),
                                           " rows of k and v"));
  }
  return expect_shape(args, "output 0", args.outputs[0], q.shape);
}

}  // namespace

absl::Status run_attention_vector(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 3, 3, 1); !s.ok()) return s;
  const RowFn attend_row = row_kernel(args);
  if (attend_row == nullptr) {
    return kernel_error(args, "the vector variant takes f32 q and result and k, v of one dtype: f32, f16 or bf16");
  }
  const int64_t past = args.param("past");
  if (absl::Status s = check_shapes(args, past); !s.ok()) return s;
  const TensorView& q = args.inputs[0];
  const int64_t tokens = q.dim(0), q_heads = q.dim(1), head_dim = q.dim(2);
  const int64_t kv_heads = args.inputs[1].dim(1);
  const bool causal = bool_constant(args, "causal");
  const double scale = real_constant(args, "scale");
  const float row_scale = static_cast<float>(scale == 0.0 ? 1.0 / std::sqrt(static_cast<double>(head_dim)) : scale);
  const int64_t keys = past + tokens;
  parallel_for(tokens * q_heads, 4 * keys * head_dim, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t t = item / q_heads, h = item % q_heads;
      // Bytes from a cache row's start to this head's kv head.
      const int64_t kv_offset = program::dtype_bytes(args.inputs[1].dtype, (h / (q_heads / kv_heads)) * head_dim);
      attend_row({.q = reinterpret_cast<const float*>(q.data) + item * head_dim,
                  .k = args.inputs[1].data + kv_offset,
                  .v = args.inputs[2].data + kv_offset,
                  .row_stride = kv_heads * head_dim,
                  .keys = causal ? past + t + 1 : keys,
                  .head_dim = head_dim,
                  .scale = row_scale,
                  .out = reinterpret_cast<float*>(args.outputs[0].data) + item * head_dim});
    }
  });
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
