// The elementwise ops, their math from kernels/elementwise_ops.h. Each value
// is computed in f64 from the operands' f32 values and rounded once to the
// result's dtype.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/elementwise_math.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/parallel_for.h"

namespace kiln::kernels::cpu {
namespace {

using math::op_add;
using math::op_gelu;
using math::op_gelu_tanh;
using math::op_mul;
using math::op_relu;
using math::op_silu;

// Costs per element for parallel_for: transcendental functions are worth
// spreading over threads sooner than a multiply.
constexpr int64_t kCheapCost = 2;
constexpr int64_t kTranscendentalCost = 32;

template <typename Fn>
absl::Status map_unary(const KernelArgs& args, int64_t cost, Fn fn) {
  if (absl::Status s = expect_arity(args, 1, 1, 1); !s.ok()) return s;
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  if (absl::Status s = expect_shape(args, "output 0", y, x.shape); !s.ok()) return s;
  parallel_for(x.elements(), cost, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y.store(i, static_cast<float>(fn(x.load(i))));
  });
  return absl::OkStatus();
}

// a op b, with b's shape equal to a suffix of a's: b repeats over a's
// leading dims.
template <typename Fn>
absl::Status map_binary(const KernelArgs& args, Fn fn) {
  if (absl::Status s = expect_arity(args, 2, 2, 1); !s.ok()) return s;
  const TensorView& a = args.inputs[0];
  const TensorView& b = args.inputs[1];
  const TensorView& y = args.outputs[0];
  const bool suffix = b.shape.size() <= a.shape.size() &&
                      std::equal(b.shape.begin(), b.shape.end(), a.shape.end() - b.shape.size());
  if (!suffix) {
    return kernel_error(args, absl::StrCat("operand 'b' ", dims_string(b.shape),
                                           " does not broadcast to operand 'a' ", dims_string(a.shape)));
  }
  if (absl::Status s = expect_shape(args, "output 0", y, a.shape); !s.ok()) return s;
  const int64_t period = b.elements();
  parallel_for(a.elements(), kCheapCost, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y.store(i, static_cast<float>(fn(a.load(i), b.load(i % period))));
  });
  return absl::OkStatus();
}

}  // namespace

absl::Status run_add(const KernelArgs& args) { return map_binary(args, op_add); }
absl::Status run_mul(const KernelArgs& args) { return map_binary(args, op_mul); }

absl::Status run_scale(const KernelArgs& args) {
  const double factor = real_constant(args, "scale");
  return map_unary(args, kCheapCost, [factor](double x) { return math::op_scale(x, factor); });
}

absl::Status run_silu(const KernelArgs& args) { return map_unary(args, kTranscendentalCost, op_silu); }
absl::Status run_relu(const KernelArgs& args) { return map_unary(args, kCheapCost, op_relu); }

absl::Status run_gelu(const KernelArgs& args) {
  const std::string& approximate = enum_constant(args, "approximate");
  if (approximate == "none") return map_unary(args, kTranscendentalCost, op_gelu);
  if (approximate == "tanh") return map_unary(args, kTranscendentalCost, op_gelu_tanh);
  return kernel_error(args, absl::StrCat("approximate must be \"none\" or \"tanh\", got \"", approximate, "\""));
}

// Between float dtypes, and from i32, the value goes through f32 (exact for
// |ids| < 2^24); to i32 it rounds toward zero as NumPy's astype does. Equal
// dtypes copy the bytes, so i32 stays exact.
absl::Status run_cast(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 1, 1, 1); !s.ok()) return s;
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  if (absl::Status s = expect_shape(args, "output 0", y, x.shape); !s.ok()) return s;
  if (x.dtype == y.dtype) {
    const int64_t bytes = program::dtype_bytes(x.dtype, x.elements());
    if (x.data + bytes <= y.data || y.data + bytes <= x.data) {
      // Apart: copied by every thread of the pool, as a copy on the GPU
      // uses the whole device (and kiln bench's roofline is this copy).
      const int64_t element = program::dtype_bytes(x.dtype, 1);
      parallel_for(x.elements(), kCheapCost, [&](int64_t begin, int64_t end) {
        std::memcpy(y.data + begin * element, x.data + begin * element, (end - begin) * element);
      });
    } else {
      std::memmove(y.data, x.data, bytes);
    }
    return absl::OkStatus();
  }
  parallel_for(x.elements(), kCheapCost, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y.store(i, x.load(i));
  });
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
