// matmul(a[..., M, K], b, bias[N]?) -> [..., M, N], b being [K, N], or
// [N, K] when transpose_b; either 2-D (shared by every batch) or with a's
// batch dims. Products of f32 values accumulate in f64; the bias is added
// before the one rounding to the result's dtype. Weights are read in place,
// whatever their dtype: transpose_b (the layout of model weights) makes each
// output a contiguous dot product, and the plain layout sweeps rows of b.

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/rows.h"

namespace kiln::kernels::cpu {
namespace {

struct MatmulDims {
  int64_t batch = 1;  // a's leading dims flattened
  int64_t m = 0, k = 0, n = 0;
  bool b_batched = false;
  bool transpose_b = false;
};

// Four partial sums keep the adds independent, so the loop runs at the
// multiplier's throughput rather than the adder's latency.
double dot(const float* a, const float* b, int64_t k) {
  double sums[4] = {0.0, 0.0, 0.0, 0.0};
  int64_t i = 0;
  for (; i + 4 <= k; i += 4) {
    for (int lane = 0; lane < 4; ++lane) sums[lane] += static_cast<double>(a[i + lane]) * b[i + lane];
  }
  for (; i < k; ++i) sums[0] += static_cast<double>(a[i]) * b[i];
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

absl::StatusOr<MatmulDims> matmul_dims(const KernelArgs& args) {
  const TensorView& a = args.inputs[0];
  const TensorView& b = args.inputs[1];
  if (a.shape.size() < 2 || b.shape.size() < 2) return kernel_error(args, "operands 'a' and 'b' need rank >= 2");
  MatmulDims dims;
  dims.transpose_b = bool_constant(args, "transpose_b");
  dims.m = a.dim(-2);
  dims.k = a.dim(-1);
  dims.n = dims.transpose_b ? b.dim(-2) : b.dim(-1);
  for (size_t i = 0; i + 2 < a.shape.size(); ++i) dims.batch *= a.shape[i];
  dims.b_batched = b.shape.size() > 2;
  const int64_t b_k = dims.transpose_b ? b.dim(-1) : b.dim(-2);
  if (b_k != dims.k) {
    return kernel_error(args, absl::StrCat("operand 'b' ", dims_string(b.shape), " has contraction dim ", b_k,
                                           ", operand 'a' ", dims_string(a.shape), " has ", dims.k));
  }
  if (dims.b_batched && !std::equal(b.shape.begin(), b.shape.end() - 2, a.shape.begin(), a.shape.end() - 2)) {
    return kernel_error(args, absl::StrCat("operand 'b' ", dims_string(b.shape),
                                           " must share the batch dims of operand 'a' ", dims_string(a.shape)));
  }
  std::vector<int64_t> out_shape = a.shape;
  out_shape.back() = dims.n;
  if (absl::Status s = expect_shape(args, "output 0", args.outputs[0], out_shape); !s.ok()) return s;
  if (args.inputs.size() == 3) {
    if (absl::Status s = expect_shape(args, "operand 'bias'", args.inputs[2], {dims.n}); !s.ok()) return s;
  }
  return dims;
}

// a as f32 rows; f32 activations are used in place.
const float* a_as_floats(const TensorView& a, std::vector<float>& storage) {
  if (a.dtype == program::DType::f32) return reinterpret_cast<const float*>(a.data);
  storage.resize(a.elements());
  load_floats(a, 0, a.elements(), storage.data());
  return storage.data();
}

void store_result(const KernelArgs& args, int64_t index, int64_t column, double sum) {
  if (args.inputs.size() == 3) sum += args.inputs[2].load(column);
  args.outputs[0].store(index, static_cast<float>(sum));
}

// Each work item is one column n of one batch: b's row n is converted once
// and dotted with every row of a.
void matmul_transposed(const KernelArgs& args, const MatmulDims& d, const float* a) {
  const TensorView& b = args.inputs[1];
  parallel_for(d.batch * d.n, d.m * d.k, [&](int64_t begin, int64_t end) {
    std::vector<float> row(d.k);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t batch = item / d.n, column = item % d.n;
      const int64_t b_row = (d.b_batched ? batch * d.n : 0) + column;
      load_floats(b, b_row * d.k, d.k, row.data());
      for (int64_t m = 0; m < d.m; ++m) {
        const double sum = dot(a + (batch * d.m + m) * d.k, row.data(), d.k);
        store_result(args, (batch * d.m + m) * d.n + column, column, sum);
      }
    }
  });
}

// Each work item is one row m of one batch: out[m, :] accumulates
// a[m, k] * b[k, :] over k, reading b row by row.
void matmul_plain(const KernelArgs& args, const MatmulDims& d, const float* a) {
  const TensorView& b = args.inputs[1];
  parallel_for(d.batch * d.m, d.n * d.k, [&](int64_t begin, int64_t end) {
    std::vector<double> sums(d.n);
    std::vector<float> b_row(d.n);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t batch = item / d.m;
      std::fill(sums.begin(), sums.end(), 0.0);
      for (int64_t k = 0; k < d.k; ++k) {
        load_floats(b, ((d.b_batched ? batch * d.k : 0) + k) * d.n, d.n, b_row.data());
        const double a_value = a[item * d.k + k];
        for (int64_t column = 0; column < d.n; ++column) sums[column] += a_value * b_row[column];
      }
      for (int64_t column = 0; column < d.n; ++column) store_result(args, item * d.n + column, column, sums[column]);
    }
  });
}

}  // namespace

absl::Status run_matmul(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 2, 3, 1); !s.ok()) return s;
  absl::StatusOr<MatmulDims> dims = matmul_dims(args);
  if (!dims.ok()) return dims.status();
  std::vector<float> a_storage;
  const float* a = a_as_floats(args.inputs[0], a_storage);
  if (dims->transpose_b) {
    matmul_transposed(args, *dims, a);
  } else {
    matmul_plain(args, *dims, a);
  }
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
