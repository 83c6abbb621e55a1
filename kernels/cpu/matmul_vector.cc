// matmul, the "vector" variant: the same product as matmul.cc for f32
// activations and a 2-D weight (f32, f16 or bf16, either layout), computed
// by the SIMD kernels of kernels/cpu/vector in f32 over several
// accumulators: gemv for one row (decode), the blocked matmul for more
// (prefill), through project_simd. The variant table (variant_rules.cc) sends
// here only nodes of that form; the kernel checks it again, since a kernel
// may be called on any Program.

#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/vector_projection.h"

namespace kiln::kernels::cpu {
namespace {

absl::Status check_form(const KernelArgs& args) {
  const TensorView& a = args.inputs[0];
  const TensorView& w = args.inputs[1];
  const bool floats = a.dtype == program::DType::f32 && args.outputs[0].dtype == program::DType::f32 &&
                      w.dtype != program::DType::i32 &&
                      (args.inputs.size() < 3 || args.inputs[2].dtype == program::DType::f32);
  if (!floats || w.shape.size() != 2 || a.shape.empty()) {
    return kernel_error(args, "the vector variant takes f32 activations, f32 results, an f32 bias and a 2-D weight");
  }
  const bool transpose_b = bool_constant(args, "transpose_b");
  const int64_t k = a.dim(-1);
  const int64_t w_k = transpose_b ? w.dim(1) : w.dim(0);
  if (w_k != k) {
    return kernel_error(args, absl::StrCat("operand 'b' ", dims_string(w.shape), " has contraction dim ", w_k,
                                           ", operand 'a' ", dims_string(a.shape), " has ", k));
  }
  std::vector<int64_t> out_shape = a.shape;
  out_shape.back() = transpose_b ? w.dim(0) : w.dim(1);
  return expect_shape(args, "output 0", args.outputs[0], out_shape);
}

}  // namespace

absl::Status run_matmul_vector(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 2, 3, 1); !s.ok()) return s;
  if (absl::Status s = check_form(args); !s.ok()) return s;
  const TensorView& a = args.inputs[0];
  const TensorView& w = args.inputs[1];
  const bool transpose_b = bool_constant(args, "transpose_b");
  const int64_t k = a.dim(-1);
  const int64_t n = transpose_b ? w.dim(0) : w.dim(1);
  const int64_t rows = k == 0 ? 0 : a.elements() / k;
  const float* x = reinterpret_cast<const float*>(a.data);
  const float* bias = args.inputs.size() == 3 ? reinterpret_cast<const float*>(args.inputs[2].data) : nullptr;
  project_simd(x, rows, k, w.data, w.dtype, transpose_b, n, bias, reinterpret_cast<float*>(args.outputs[0].data));
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
