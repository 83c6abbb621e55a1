// rope(x[T, H, Dh]): rotates pairs of the first rotary_dim features of each
// head of row t by the angle (P + t) * inv_freq[i], with
// inv_freq[i] = theta^(-2i / rotary_dim). Pairs are (2i, 2i + 1) when
// interleaved (GPT-J, GGUF), else (i, i + rotary_dim / 2) (HF rotate_half).
// Features past rotary_dim pass through. When scaling_original_context > 0
// the frequencies follow Llama 3's scaling, as HF's
// _compute_llama3_parameters does; otherwise the scaling_* constants are
// unused. Angles and rotations are computed in f64. May run in place.

#include <cmath>
#include <numbers>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/parallel_for.h"

namespace kiln::kernels::cpu {
namespace {

// Llama 3: wavelengths longer than original_context / low_freq_factor are
// slowed by `factor`, those shorter than original_context / high_freq_factor
// kept, and those between blended smoothly.
double llama3_inv_freq(double inv_freq, const KernelArgs& args) {
  const double factor = real_constant(args, "scaling_factor");
  const double low = real_constant(args, "scaling_low_freq_factor");
  const double high = real_constant(args, "scaling_high_freq_factor");
  const double context = static_cast<double>(int_constant(args, "scaling_original_context"));
  const double wavelen = 2.0 * std::numbers::pi / inv_freq;
  if (wavelen > context / low) return inv_freq / factor;
  if (wavelen < context / high) return inv_freq;
  const double smooth = (context / wavelen - low) / (high - low);
  return (1.0 - smooth) * inv_freq / factor + smooth * inv_freq;
}

std::vector<double> inverse_frequencies(const KernelArgs& args, int64_t rotary_dim) {
  const double theta = real_constant(args, "theta");
  const bool llama3 = int_constant(args, "scaling_original_context") > 0;
  std::vector<double> inv_freq(rotary_dim / 2);
  for (int64_t i = 0; i < rotary_dim / 2; ++i) {
    inv_freq[i] = 1.0 / std::pow(theta, static_cast<double>(2 * i) / static_cast<double>(rotary_dim));
    if (llama3) inv_freq[i] = llama3_inv_freq(inv_freq[i], args);
  }
  return inv_freq;
}

struct RopeLayout {
  int64_t heads = 0, head_dim = 0, rotary_dim = 0;
  bool interleaved = false;
};

// Rotates every head of token row t, given the cosines and sines of its
// angles.
void rotate_token(const TensorView& x, const TensorView& y, int64_t t, const RopeLayout& layout,
                  const std::vector<double>& cosines, const std::vector<double>& sines) {
  const int64_t half = layout.rotary_dim / 2;
  for (int64_t h = 0; h < layout.heads; ++h) {
    const int64_t base = (t * layout.heads + h) * layout.head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const int64_t first = base + (layout.interleaved ? 2 * i : i);
      const int64_t second = base + (layout.interleaved ? 2 * i + 1 : i + half);
      const double x1 = x.load(first), x2 = x.load(second);
      y.store(first, static_cast<float>(x1 * cosines[i] - x2 * sines[i]));
      y.store(second, static_cast<float>(x2 * cosines[i] + x1 * sines[i]));
    }
    for (int64_t i = layout.rotary_dim; i < layout.head_dim; ++i) y.store(base + i, x.load(base + i));
  }
}

}  // namespace

absl::Status run_rope(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 1, 1, 1); !s.ok()) return s;
  const TensorView& x = args.inputs[0];
  const TensorView& y = args.outputs[0];
  if (x.shape.size() != 3) {
    return kernel_error(args, absl::StrCat("expected x [T, heads, head_dim], got ", dims_string(x.shape)));
  }
  const RopeLayout layout{x.dim(1), x.dim(2), int_constant(args, "rotary_dim"), bool_constant(args, "interleaved")};
  if (layout.rotary_dim < 0 || layout.rotary_dim > layout.head_dim || layout.rotary_dim % 2 != 0) {
    return kernel_error(args, absl::StrCat("rotary_dim ", layout.rotary_dim, " must be even and <= head_dim ",
                                           layout.head_dim));
  }
  if (absl::Status s = expect_shape(args, "output 0", y, x.shape); !s.ok()) return s;
  const std::vector<double> inv_freq = inverse_frequencies(args, layout.rotary_dim);
  const int64_t past = args.param("past");
  parallel_for(x.dim(0), layout.heads * layout.head_dim * 4, [&](int64_t begin, int64_t end) {
    std::vector<double> cosines(inv_freq.size()), sines(inv_freq.size());
    for (int64_t t = begin; t < end; ++t) {
      for (size_t i = 0; i < inv_freq.size(); ++i) {
        cosines[i] = std::cos(static_cast<double>(past + t) * inv_freq[i]);
        sines[i] = std::sin(static_cast<double>(past + t) * inv_freq[i]);
      }
      rotate_token(x, y, t, layout, cosines, sines);
    }
  });
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
