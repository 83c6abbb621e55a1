// matmul_qkv(x, wq, wk, wv [, bq, bk, bv]) -> (x @ wq + bq, x @ wk + bk,
// x @ wv + bv): x is converted once and each result written on its own
// (split write). As in matmul, products accumulate in f64 and the bias is
// added before the one rounding.

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/fused_kernels.h"
#include "kernels/cpu/fused_projection.h"
#include "kernels/cpu/rows.h"

namespace kiln::kernels::cpu {
namespace {

constexpr const char* kWeightNames[] = {"wq", "wk", "wv"};
constexpr const char* kBiasNames[] = {"bq", "bk", "bv"};

// Result `index`: x's projection by operand 1 + index, plus operand
// 4 + index when the biases are given.
absl::Status write_projection(const KernelArgs& args, const std::vector<float>& xs, int index,
                              ProjectFn project) {
  const TensorView& x = args.inputs[0];
  absl::StatusOr<Weight> w = weight_operand(args, kWeightNames[index], args.inputs[1 + index],
                                            bool_constant(args, "transpose_b"), row_length(x));
  if (!w.ok()) return w.status();
  std::vector<int64_t> shape = x.shape;
  shape.back() = w->n;
  const TensorView& y = args.outputs[index];
  if (absl::Status s = expect_shape(args, absl::StrCat("output ", index), y, shape); !s.ok()) return s;
  const bool has_bias = args.inputs.size() == 7;
  if (has_bias) {
    if (absl::Status s = expect_shape(args, absl::StrCat("operand '", kBiasNames[index], "'"), args.inputs[4 + index],
                                      {w->n});
        !s.ok()) {
      return s;
    }
  }
  const std::vector<double> sums = project(xs, row_count(x), *w);
  for (size_t i = 0; i < sums.size(); ++i) {
    const double bias = has_bias ? args.inputs[4 + index].load(static_cast<int64_t>(i) % w->n) : 0.0;
    y.store(static_cast<int64_t>(i), static_cast<float>(sums[i] + bias));
  }
  return absl::OkStatus();
}

absl::Status matmul_qkv(const KernelArgs& args, ProjectFn project) {
  if (absl::Status s = expect_arity(args, 4, 7, 3); !s.ok()) return s;
  if (args.inputs.size() != 4 && args.inputs.size() != 7) {
    return kernel_error(args, absl::StrCat("expected 4 inputs, or 7 with biases, got ", args.inputs.size()));
  }
  const std::vector<float> xs = floats_of(args.inputs[0]);
  for (int index = 0; index < 3; ++index) {
    if (absl::Status s = write_projection(args, xs, index, project); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status run_matmul_qkv(const KernelArgs& args) { return matmul_qkv(args, project); }

}  // namespace kiln::kernels::cpu
