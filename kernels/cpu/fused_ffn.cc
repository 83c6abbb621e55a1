// fused_ffn(x, w_gate, w_up, w_down) = (act(x @ w_gate) * (x @ w_up)) @ w_down
// fused_gate_up(x, w_gate, w_up)     =  act(x @ w_gate) * (x @ w_up)
// Each step rounds to f32 where the unfused graph stores an f32 value; the
// activation and the product are computed in f64 from those f32 values, as
// the elementwise kernels compute them.

#include <cmath>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/elementwise_math.h"
#include "kernels/cpu/fused_kernels.h"
#include "kernels/cpu/fused_projection.h"
#include "kernels/cpu/rows.h"

namespace kiln::kernels::cpu {
namespace {

using ActivationFn = double (*)(double);

// The (act, approximate) pairs ir/fused_ops.cc accepts.
struct Activation {
  std::string_view act;
  std::string_view approximate;
  ActivationFn fn;
};
constexpr Activation kActivations[] = {
    {"silu", "none", math::op_silu},
    {"gelu", "none", math::op_gelu},
    {"gelu", "tanh", math::op_gelu_tanh},
};

absl::StatusOr<ActivationFn> activation(const KernelArgs& args) {
  const std::string& act = enum_constant(args, "act");
  const std::string& approximate = enum_constant(args, "approximate");
  for (const Activation& known : kActivations) {
    if (known.act == act && known.approximate == approximate) return known.fn;
  }
  return kernel_error(args, absl::StrCat("no activation act = \"", act, "\", approximate = \"", approximate, "\""));
}

// act(x @ w_gate) * (x @ w_up) for every row of x, [rows, I] in f32.
struct Gated {
  std::vector<float> values;
  int64_t rows = 0;
  int64_t intermediate = 0;
};

absl::StatusOr<Gated> gated(const KernelArgs& args, ProjectFn project) {
  const TensorView& x = args.inputs[0];
  const bool transpose_b = bool_constant(args, "transpose_b");
  absl::StatusOr<Weight> gate = weight_operand(args, "w_gate", args.inputs[1], transpose_b, row_length(x));
  if (!gate.ok()) return gate.status();
  absl::StatusOr<Weight> up = weight_operand(args, "w_up", args.inputs[2], transpose_b, row_length(x));
  if (!up.ok()) return up.status();
  if (gate->n != up->n) {
    return kernel_error(args, absl::StrCat("w_gate projects to ", gate->n, " and w_up to ", up->n));
  }
  absl::StatusOr<ActivationFn> act = activation(args);
  if (!act.ok()) return act.status();
  const std::vector<float> xs = floats_of(x);
  Gated out{std::vector<float>(row_count(x) * gate->n), row_count(x), gate->n};
  const std::vector<double> gate_sums = project(xs, out.rows, *gate);
  const std::vector<double> up_sums = project(xs, out.rows, *up);
  for (size_t i = 0; i < out.values.size(); ++i) {
    const float activated = static_cast<float>((*act)(static_cast<float>(gate_sums[i])));
    out.values[i] = static_cast<float>(static_cast<double>(activated) * static_cast<float>(up_sums[i]));
  }
  return out;
}

std::vector<int64_t> with_last_dim(std::vector<int64_t> shape, int64_t last) {
  shape.back() = last;
  return shape;
}

absl::Status fused_gate_up(const KernelArgs& args, ProjectFn project) {
  if (absl::Status s = expect_arity(args, 3, 3, 1); !s.ok()) return s;
  absl::StatusOr<Gated> product = gated(args, project);
  if (!product.ok()) return product.status();
  const TensorView& y = args.outputs[0];
  if (absl::Status s = expect_shape(args, "output 0", y, with_last_dim(args.inputs[0].shape, product->intermediate));
      !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < product->values.size(); ++i) y.store(static_cast<int64_t>(i), product->values[i]);
  return absl::OkStatus();
}

absl::Status fused_ffn(const KernelArgs& args, ProjectFn project) {
  if (absl::Status s = expect_arity(args, 4, 4, 1); !s.ok()) return s;
  absl::StatusOr<Gated> product = gated(args, project);
  if (!product.ok()) return product.status();
  absl::StatusOr<Weight> down =
      weight_operand(args, "w_down", args.inputs[3], bool_constant(args, "transpose_b"), product->intermediate);
  if (!down.ok()) return down.status();
  const TensorView& y = args.outputs[0];
  if (absl::Status s = expect_shape(args, "output 0", y, with_last_dim(args.inputs[0].shape, down->n)); !s.ok()) {
    return s;
  }
  const std::vector<double> sums = project(product->values, product->rows, *down);
  for (size_t i = 0; i < sums.size(); ++i) y.store(static_cast<int64_t>(i), static_cast<float>(sums[i]));
  return absl::OkStatus();
}

}  // namespace

absl::Status run_fused_gate_up(const KernelArgs& args) { return fused_gate_up(args, project); }
absl::Status run_fused_ffn(const KernelArgs& args) { return fused_ffn(args, project); }

}  // namespace kiln::kernels::cpu
