// matmul, the "vector" variant: the same product as matmul.cc for f32
// activations and a 2-D weight (f32, f16 or bf16, either layout), computed
// by the SIMD kernels of kernels/cpu/vector in f32 over several
// accumulators: gemv for one row (decode), the blocked matmul for more
// (prefill). Output columns are split over the thread pool in blocks of 64,
// so every vector stays full. The variant table (variant_rules.cc) sends
// here only nodes of that form; the kernel checks it again, since a kernel
// may be called on any Program.

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/vector/gemv.h"
#include "kernels/cpu/vector/matmul.h"

namespace kiln::kernels::cpu {
namespace {

constexpr int64_t kColumnBlock = 64;

using GemvFn = void (*)(const vector::GemvArgs&, int64_t, int64_t);
using MatmulFn = void (*)(const vector::MatmulArgs&, int64_t, int64_t);

struct Kernels {
  GemvFn gemv;
  MatmulFn matmul;
};

Kernels kernels_for(program::DType dtype) {
  switch (dtype) {
    case program::DType::f16: return {vector::gemv_f16, vector::matmul_f16};
    case program::DType::bf16: return {vector::gemv_bf16, vector::matmul_bf16};
    default: return {vector::gemv_f32, vector::matmul_f32};
  }
}

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
  const vector::WeightLayout layout = transpose_b ? vector::WeightLayout::n_by_k : vector::WeightLayout::k_by_n;
  const float* x = reinterpret_cast<const float*>(a.data);
  const float* bias = args.inputs.size() == 3 ? reinterpret_cast<const float*>(args.inputs[2].data) : nullptr;
  float* y = reinterpret_cast<float*>(args.outputs[0].data);
  const Kernels kernels = kernels_for(w.dtype);
  const int64_t blocks = (n + kColumnBlock - 1) / kColumnBlock;
  parallel_for(blocks, rows * k * kColumnBlock, [&](int64_t begin, int64_t end) {
    const int64_t first = begin * kColumnBlock, last = std::min(n, end * kColumnBlock);
    if (rows == 1) {
      kernels.gemv({.x = x, .w = w.data, .bias = bias, .y = y, .n = n, .k = k, .layout = layout}, first, last);
    } else {
      kernels.matmul({.x = x, .w = w.data, .bias = bias, .y = y, .m = rows, .n = n, .k = k, .layout = layout}, first,
                     last);
    }
  });
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
