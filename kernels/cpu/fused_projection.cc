#include "kernels/cpu/fused_projection.h"

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/rows.h"

namespace kiln::kernels::cpu {
namespace {

// Column j of w, K values: a contiguous row when transposed, else strided.
void load_column(const Weight& w, int64_t j, float* out) {
  if (w.transpose_b) {
    load_floats(*w.view, j * w.k, w.k, out);
    return;
  }
  for (int64_t i = 0; i < w.k; ++i) out[i] = w.view->load(i * w.n + j);
}

}  // namespace

absl::StatusOr<Weight> weight_operand(const KernelArgs& args, const std::string& name, const TensorView& w,
                                      bool transpose_b, int64_t k) {
  if (w.shape.size() != 2) {
    return kernel_error(args, absl::StrCat("operand '", name, "' ", dims_string(w.shape), " must be 2-D"));
  }
  const int64_t w_k = transpose_b ? w.shape[1] : w.shape[0];
  if (w_k != k) {
    return kernel_error(args, absl::StrCat("operand '", name, "' ", dims_string(w.shape), " has contraction dim ",
                                           w_k, ", expected ", k));
  }
  return Weight{&w, transpose_b, k, transpose_b ? w.shape[0] : w.shape[1]};
}

std::vector<double> project(const std::vector<float>& x, int64_t rows, const Weight& w) {
  std::vector<double> out(rows * w.n);
  parallel_for(w.n, rows * w.k, [&](int64_t begin, int64_t end) {
    std::vector<float> column(w.k);
    for (int64_t j = begin; j < end; ++j) {
      load_column(w, j, column.data());
      for (int64_t r = 0; r < rows; ++r) {
        double sum = 0.0;
        for (int64_t i = 0; i < w.k; ++i) sum += static_cast<double>(x[r * w.k + i]) * column[i];
        out[r * w.n + j] = sum;
      }
    }
  });
  return out;
}

std::vector<float> floats_of(const TensorView& view) {
  std::vector<float> out(view.elements());
  load_floats(view, 0, view.elements(), out.data());
  return out;
}

}  // namespace kiln::kernels::cpu
