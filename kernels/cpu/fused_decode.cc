// The GPU decode forms (ir/fused_ops.cc; docs/fusion.md, "Table decode"):
//   matmul_residual(x, w, r)                       = x @ w + r
//   rmsnorm_matmul(x, g, w)                        = rmsnorm(x, g) @ w
//   rmsnorm_gate_up(x, g, wg, wu)                  = fused_gate_up(rmsnorm(x, g), wg, wu)
//   rmsnorm_qkv_rope(x, g, wq, wk, wv, kc, vc [, b]) -> rope(q), kc, vc with
//     rope(k) and v written into the caches at rows [P, P + T)
// The reference runs the primitive kernels they replace, in the same order,
// over intermediates of the dtypes the unfused graph gives them, so each
// result is bit for bit what the unfused graph computes. The primitive
// kernels read the fused dispatch's constants (eps, transpose_b, the rope
// attributes, act) and parameters (past) by the names they share.

#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/composed.h"
#include "kernels/cpu/fused_kernels.h"
#include "kernels/cpu/op_kernels.h"

namespace kiln::kernels::cpu {
namespace {

// x's rows with the last dim replaced by `cols`: a projection's result.
std::vector<int64_t> with_cols(const TensorView& x, int64_t cols) {
  std::vector<int64_t> shape = x.shape;
  shape.back() = cols;
  return shape;
}

// rmsnorm(x, g) in x's dtype, as the rmsnorm node stored it.
absl::StatusOr<Temporary> normalised(const KernelArgs& args) {
  Temporary n(args.inputs[0].dtype, args.inputs[0].shape);
  if (absl::Status s = run_part(args, run_rmsnorm, {args.inputs[0], args.inputs[1]}, {n.view()}); !s.ok()) return s;
  return n;
}

}  // namespace

absl::Status run_matmul_residual(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 3, 3, 1); !s.ok()) return s;
  const TensorView& y = args.outputs[0];
  Temporary product(y.dtype, y.shape);
  if (absl::Status s = run_part(args, run_matmul, {args.inputs[0], args.inputs[1]}, {product.view()}); !s.ok()) {
    return s;
  }
  return run_part(args, run_add, {args.inputs[2], product.view()}, {y});
}

absl::Status run_rmsnorm_matmul(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 3, 3, 1); !s.ok()) return s;
  absl::StatusOr<Temporary> n = normalised(args);
  if (!n.ok()) return n.status();
  return run_part(args, run_matmul, {n->view(), args.inputs[2]}, {args.outputs[0]});
}

absl::Status run_rmsnorm_gate_up(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 4, 4, 1); !s.ok()) return s;
  absl::StatusOr<Temporary> n = normalised(args);
  if (!n.ok()) return n.status();
  return run_part(args, run_fused_gate_up, {n->view(), args.inputs[2], args.inputs[3]}, {args.outputs[0]});
}

absl::Status run_rmsnorm_qkv_rope(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 7, 10, 3); !s.ok()) return s;
  if (args.inputs.size() != 7 && args.inputs.size() != 10) {
    return kernel_error(args, absl::StrCat("expected 7 inputs, or 10 with biases, got ", args.inputs.size()));
  }
  const TensorView& q_out = args.outputs[0];
  const TensorView& k_cache = args.inputs[5];
  const TensorView& v_cache = args.inputs[6];
  if (q_out.shape.size() != 3 || k_cache.shape.size() != 3 || v_cache.shape.size() != 3) {
    return kernel_error(args, absl::StrCat("expected q [T, Hq, Dh] and caches [S, Hkv, Dh], got ",
                                           dims_string(q_out.shape), ", ", dims_string(k_cache.shape), " and ",
                                           dims_string(v_cache.shape)));
  }
  absl::StatusOr<Temporary> n = normalised(args);
  if (!n.ok()) return n.status();
  const TensorView& x = args.inputs[0];
  const int64_t rows = x.dim(0);
  const int64_t kv_width = k_cache.dim(1) * k_cache.dim(2);
  Temporary q(x.dtype, with_cols(x, q_out.dim(1) * q_out.dim(2)));
  Temporary k(x.dtype, with_cols(x, kv_width));
  Temporary v(x.dtype, with_cols(x, v_cache.dim(1) * v_cache.dim(2)));
  std::vector<TensorView> products = {n->view(), args.inputs[2], args.inputs[3], args.inputs[4]};
  for (size_t b = 7; b < args.inputs.size(); ++b) products.push_back(args.inputs[b]);
  if (absl::Status s = run_part(args, run_matmul_qkv, products, {q.view(), k.view(), v.view()}); !s.ok()) return s;
  if (absl::Status s = run_part(args, run_rope, {q.reshaped(q_out.shape)}, {q_out}); !s.ok()) return s;
  const std::vector<int64_t> k_heads = {rows, k_cache.dim(1), k_cache.dim(2)};
  Temporary k_rope(x.dtype, k_heads);
  if (absl::Status s = run_part(args, run_rope, {k.reshaped(k_heads)}, {k_rope.view()}); !s.ok()) return s;
  if (absl::Status s = run_part(args, run_kv_write, {k_cache, k_rope.view()}, {args.outputs[1]}); !s.ok()) return s;
  return run_part(args, run_kv_write, {v_cache, v.reshaped({rows, v_cache.dim(1), v_cache.dim(2)})},
                  {args.outputs[2]});
}

}  // namespace kiln::kernels::cpu
