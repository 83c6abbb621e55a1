// The "vector" variants of the fused projections: fused_gate_up, fused_ffn,
// matmul_qkv and matmul_rmsnorm, the results of fused_ffn.cc,
// fused_matmul_qkv.cc and fused_norm.cc computed in f32. Every product goes
// through project_simd (the SIMD gemv for one row, the blocked matmul for
// more) straight into its result or a scratch buffer, the silu product and
// the norm through the SIMD row kernels, all split over the thread pool.
// Intermediates (the gate product, operands or results of another dtype
// than f32) live in per-thread scratch that keeps its largest size, so steps
// allocate nothing once the first has run. Checks and their messages are
// the references'.

#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/elementwise_math.h"
#include "kernels/cpu/fused_kernels.h"
#include "kernels/cpu/fused_projection.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/rows.h"
#include "kernels/cpu/vector/gated.h"
#include "kernels/cpu/vector/rmsnorm.h"
#include "kernels/cpu/vector_projection.h"

namespace kiln::kernels::cpu {
namespace {

// ---- Scratch and f32 views --------------------------------------------------

// A kernel runs on the thread that runs the step (workers run only its
// chunks), so each buffer serves one kernel call at a time.
struct Scratch {
  std::vector<float> x, gate, bias, residual;
  std::vector<float> results[3];
};

Scratch& scratch() {
  thread_local Scratch buffers;
  return buffers;
}

float* reserve(std::vector<float>& buffer, int64_t count) {
  if (buffer.size() < static_cast<size_t>(count)) buffer.resize(count);
  return buffer.data();
}

// `view`'s elements as f32: its own bytes when it is f32, else a copy
// converted into `buffer`.
const float* f32_values(const TensorView& view, std::vector<float>& buffer) {
  if (view.dtype == program::DType::f32) return reinterpret_cast<const float*>(view.data);
  float* values = reserve(buffer, view.elements());
  load_floats(view, 0, view.elements(), values);
  return values;
}

// Where a result is computed in f32: in place when it is f32, else in
// `buffer`, which finish() converts into it.
struct F32Result {
  const TensorView* view;
  float* data;

  void finish() const {
    if (view->dtype == program::DType::f32) return;
    for (int64_t i = 0; i < view->elements(); ++i) view->store(i, data[i]);
  }
};

F32Result f32_result(const TensorView& view, std::vector<float>& buffer) {
  if (view.dtype == program::DType::f32) return {&view, reinterpret_cast<float*>(view.data)};
  return {&view, reserve(buffer, view.elements())};
}

absl::Status check_float_weight(const KernelArgs& args, const std::string& name, const Weight& w) {
  const program::DType dtype = w.view->dtype;
  if (dtype == program::DType::f32 || dtype == program::DType::f16 || dtype == program::DType::bf16) {
    return absl::OkStatus();
  }
  return kernel_error(args, absl::StrCat("the vector variant takes operand '", name, "' as f32, f16 or bf16"));
}

absl::StatusOr<Weight> float_weight(const KernelArgs& args, const std::string& name, const TensorView& w, int64_t k) {
  absl::StatusOr<Weight> weight = weight_operand(args, name, w, bool_constant(args, "transpose_b"), k);
  if (!weight.ok()) return weight.status();
  if (absl::Status s = check_float_weight(args, name, *weight); !s.ok()) return s;
  return weight;
}

// x [rows, w.k] @ w (+ bias [w.n]) -> y [rows, w.n], all f32.
void project(const float* x, int64_t rows, const Weight& w, const float* bias, float* y) {
  project_simd(x, rows, w.k, w.view->data, w.view->dtype, w.transpose_b, w.n, bias, y);
}

// ---- The gated product -------------------------------------------------------

enum class Activation { silu, gelu, gelu_tanh };

absl::StatusOr<Activation> activation(const KernelArgs& args) {
  const std::string& act = enum_constant(args, "act");
  const std::string& approximate = enum_constant(args, "approximate");
  if (act == "silu" && approximate == "none") return Activation::silu;
  if (act == "gelu" && approximate == "none") return Activation::gelu;
  if (act == "gelu" && approximate == "tanh") return Activation::gelu_tanh;
  return kernel_error(args, absl::StrCat("no activation act = \"", act, "\", approximate = \"", approximate, "\""));
}

// out[i] = act(gate[i]) * up[i]; out may be up. silu in f32 through the
// SIMD kernel; gelu as the reference computes it (f64, each step rounded to
// f32), which no Llama-family model takes.
void gated_product(Activation act, const float* gate, const float* up, float* out, int64_t count) {
  parallel_for(count, 32, [&](int64_t begin, int64_t end) {
    if (act == Activation::silu) {
      vector::silu_product(gate + begin, up + begin, out + begin, end - begin);
      return;
    }
    for (int64_t i = begin; i < end; ++i) {
      const double activated = act == Activation::gelu ? math::op_gelu(gate[i]) : math::op_gelu_tanh(gate[i]);
      out[i] = static_cast<float>(static_cast<double>(static_cast<float>(activated)) * up[i]);
    }
  });
}

std::vector<int64_t> with_last_dim(std::vector<int64_t> shape, int64_t last) {
  shape.back() = last;
  return shape;
}

// fused_gate_up's and fused_ffn's first two products.
struct GateUp {
  Weight gate, up;
  Activation act;
};

absl::StatusOr<GateUp> gate_up_operands(const KernelArgs& args) {
  const int64_t k = row_length(args.inputs[0]);
  absl::StatusOr<Weight> gate = float_weight(args, "w_gate", args.inputs[1], k);
  if (!gate.ok()) return gate.status();
  absl::StatusOr<Weight> up = float_weight(args, "w_up", args.inputs[2], k);
  if (!up.ok()) return up.status();
  if (gate->n != up->n) {
    return kernel_error(args, absl::StrCat("w_gate projects to ", gate->n, " and w_up to ", up->n));
  }
  absl::StatusOr<Activation> act = activation(args);
  if (!act.ok()) return act.status();
  return GateUp{*gate, *up, *act};
}

// act(x @ w_gate) * (x @ w_up) into out [rows, I].
void gate_up(const GateUp& ops, const float* x, int64_t rows, float* out) {
  float* gate_sums = reserve(scratch().gate, rows * ops.gate.n);
  project(x, rows, ops.gate, nullptr, gate_sums);
  project(x, rows, ops.up, nullptr, out);
  gated_product(ops.act, gate_sums, out, out, rows * ops.gate.n);
}

// Result `index` of matmul_qkv: x's projection by operand 1 + index, plus
// operand 4 + index when the biases are given.
absl::Status write_projection(const KernelArgs& args, const float* xs, int index) {
  static constexpr const char* kWeightNames[] = {"wq", "wk", "wv"};
  static constexpr const char* kBiasNames[] = {"bq", "bk", "bv"};
  const TensorView& x = args.inputs[0];
  absl::StatusOr<Weight> w = float_weight(args, kWeightNames[index], args.inputs[1 + index], row_length(x));
  if (!w.ok()) return w.status();
  const TensorView& y = args.outputs[index];
  if (absl::Status s = expect_shape(args, absl::StrCat("output ", index), y, with_last_dim(x.shape, w->n)); !s.ok()) {
    return s;
  }
  Scratch& s = scratch();
  const float* bias = nullptr;
  if (args.inputs.size() == 7) {
    const TensorView& b = args.inputs[4 + index];
    if (absl::Status st = expect_shape(args, absl::StrCat("operand '", kBiasNames[index], "'"), b, {w->n}); !st.ok()) {
      return st;
    }
    bias = f32_values(b, s.bias);
  }
  const F32Result result = f32_result(y, s.results[index]);
  project(xs, row_count(x), *w, bias, result.data);
  result.finish();
  return absl::OkStatus();
}

}  // namespace

absl::Status run_fused_gate_up_vector(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 3, 3, 1); !s.ok()) return s;
  absl::StatusOr<GateUp> ops = gate_up_operands(args);
  if (!ops.ok()) return ops.status();
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  if (absl::Status s = expect_shape(args, "output 0", y, with_last_dim(x.shape, ops->gate.n)); !s.ok()) return s;
  Scratch& s = scratch();
  const F32Result result = f32_result(y, s.results[0]);
  gate_up(*ops, f32_values(x, s.x), row_count(x), result.data);
  result.finish();
  return absl::OkStatus();
}

absl::Status run_fused_ffn_vector(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 4, 4, 1); !s.ok()) return s;
  absl::StatusOr<GateUp> ops = gate_up_operands(args);
  if (!ops.ok()) return ops.status();
  absl::StatusOr<Weight> down = float_weight(args, "w_down", args.inputs[3], ops->gate.n);
  if (!down.ok()) return down.status();
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  if (absl::Status s = expect_shape(args, "output 0", y, with_last_dim(x.shape, down->n)); !s.ok()) return s;
  Scratch& s = scratch();
  const int64_t rows = row_count(x);
  float* hidden = reserve(s.results[1], rows * ops->gate.n);
  gate_up(*ops, f32_values(x, s.x), rows, hidden);
  const F32Result result = f32_result(y, s.results[0]);
  project(hidden, rows, *down, nullptr, result.data);
  result.finish();
  return absl::OkStatus();
}

absl::Status run_matmul_qkv_vector(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 4, 7, 3); !s.ok()) return s;
  if (args.inputs.size() != 4 && args.inputs.size() != 7) {
    return kernel_error(args, absl::StrCat("expected 4 inputs, or 7 with biases, got ", args.inputs.size()));
  }
  const float* xs = f32_values(args.inputs[0], scratch().x);
  for (int index = 0; index < 3; ++index) {
    if (absl::Status s = write_projection(args, xs, index); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// (sum, normed) = (x @ w (+ residual), rmsnorm(sum, g)).
absl::Status run_matmul_rmsnorm_vector(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 3, 4, 2); !s.ok()) return s;
  const TensorView& x = args.inputs[0];
  absl::StatusOr<Weight> w = float_weight(args, "w", args.inputs[1], row_length(x));
  if (!w.ok()) return w.status();
  const std::vector<int64_t> shape = with_last_dim(x.shape, w->n);
  const bool has_residual = args.inputs.size() == 4;
  if (has_residual) {
    if (absl::Status s = expect_shape(args, "operand 'residual'", args.inputs[3], shape); !s.ok()) return s;
  }
  const TensorView& g = args.inputs[2];
  if (absl::Status s = expect_shape(args, "a norm weight", g, {w->n}); !s.ok()) return s;
  for (const TensorView& output : args.outputs) {
    if (absl::Status s = expect_shape(args, "a result", output, shape); !s.ok()) return s;
  }
  if (g.dtype == program::DType::i32) return kernel_error(args, "the vector variant takes a gain of f32, f16 or bf16");
  void (*norm_row)(const vector::RmsnormRowArgs&) = g.dtype == program::DType::f16    ? vector::rmsnorm_row_f16
                                                    : g.dtype == program::DType::bf16 ? vector::rmsnorm_row_bf16
                                                                                       : vector::rmsnorm_row_f32;
  Scratch& s = scratch();
  const int64_t rows = row_count(x), d = w->n;
  const F32Result sum = f32_result(args.outputs[0], s.results[0]);
  const F32Result normed = f32_result(args.outputs[1], s.results[1]);
  project(f32_values(x, s.x), rows, *w, nullptr, sum.data);
  const float* residual = has_residual ? f32_values(args.inputs[3], s.residual) : nullptr;
  const float eps = static_cast<float>(real_constant(args, "eps"));
  parallel_for(rows, 4 * d, [&](int64_t begin, int64_t end) {
    for (int64_t base = begin * d; base < end * d; base += d) {
      norm_row({.x = sum.data + base, .residual = residual ? residual + base : nullptr, .g = g.data, .d = d,
                .eps = eps, .sum = sum.data + base, .y = normed.data + base});
    }
  });
  sum.finish();
  normed.finish();
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
