// rmsnorm and residual_rmsnorm, the "vector" variants: the results of
// rmsnorm.cc and fused_norm.cc for f32 rows (and f32 sums) and a gain of
// f32, f16 or bf16, through the SIMD row kernel of
// kernels/cpu/vector/rmsnorm.h (the sum of squares in f32), rows split over
// the thread pool, allocating nothing. residual_rmsnorm's sum may share
// storage with operand a, as the op allows. The variant table
// (variant_rules.cc) sends here only nodes of that form; the kernels check it
// again, since a kernel may be called on any Program.

#include <span>

#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/fused_kernels.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/rows.h"
#include "kernels/cpu/vector/rmsnorm.h"

namespace kiln::kernels::cpu {
namespace {

using RowFn = void (*)(const vector::RmsnormRowArgs&);

RowFn row_kernel(program::DType gain) {
  switch (gain) {
    case program::DType::f32: return vector::rmsnorm_row_f32;
    case program::DType::f16: return vector::rmsnorm_row_f16;
    case program::DType::bf16: return vector::rmsnorm_row_bf16;
    default: return nullptr;
  }
}

bool all_f32(std::span<const TensorView> views) {
  for (const TensorView& view : views) {
    if (view.dtype != program::DType::f32) return false;
  }
  return true;
}

// Normalises every row of `x` (plus `residual`, when not null, whose sums go
// to `sum`) into `y`, with the gain and eps of the dispatch.
void normalise_rows(const KernelArgs& args, RowFn row, const TensorView& x, const TensorView* residual,
                    const TensorView* sum, const TensorView& gain, const TensorView& y) {
  const int64_t d = row_length(x);
  const float eps = static_cast<float>(real_constant(args, "eps"));
  const auto at = [](const TensorView* view, int64_t base) {
    return view ? reinterpret_cast<float*>(view->data) + base : nullptr;
  };
  parallel_for(row_count(x), 4 * d, [&](int64_t begin, int64_t end) {
    for (int64_t base = begin * d; base < end * d; base += d) {
      row({.x = at(&x, base), .residual = at(residual, base), .g = gain.data, .d = d, .eps = eps,
           .sum = at(sum, base), .y = at(&y, base)});
    }
  });
}

}  // namespace

absl::Status run_rmsnorm_vector(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 2, 2, 1); !s.ok()) return s;
  const TensorView& x = args.inputs[0];
  const TensorView& w = args.inputs[1];
  const RowFn row = row_kernel(w.dtype);
  if (row == nullptr || !all_f32(args.outputs) || x.dtype != program::DType::f32) {
    return kernel_error(args, "the vector variant takes an f32 row, an f32 result and a gain of f32, f16 or bf16");
  }
  if (absl::Status s = expect_shape(args, "operand 'w'", w, {row_length(x)}); !s.ok()) return s;
  if (absl::Status s = expect_shape(args, "output 0", args.outputs[0], x.shape); !s.ok()) return s;
  normalise_rows(args, row, x, nullptr, nullptr, w, args.outputs[0]);
  return absl::OkStatus();
}

absl::Status run_residual_rmsnorm_vector(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 3, 3, 2); !s.ok()) return s;
  const TensorView& a = args.inputs[0];
  const TensorView& b = args.inputs[1];
  const TensorView& g = args.inputs[2];
  const RowFn row = row_kernel(g.dtype);
  if (row == nullptr || !all_f32(args.outputs) || a.dtype != program::DType::f32 || b.dtype != program::DType::f32) {
    return kernel_error(args, "the vector variant takes f32 rows, f32 results and a gain of f32, f16 or bf16");
  }
  if (absl::Status s = expect_shape(args, "operand 'b'", b, a.shape); !s.ok()) return s;
  if (absl::Status s = expect_shape(args, "a norm weight", g, {row_length(a)}); !s.ok()) return s;
  for (const TensorView& output : args.outputs) {
    if (absl::Status s = expect_shape(args, "a result", output, a.shape); !s.ok()) return s;
  }
  normalise_rows(args, row, a, &b, &args.outputs[0], g, args.outputs[1]);
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
