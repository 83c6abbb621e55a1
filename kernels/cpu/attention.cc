// attention(q[T, Hq, Dh], k[S, Hkv, Dh], v[S, Hkv, Dh]) -> [T, Hq, Dh].
// Key rows [0, P + T) are valid; query t sits at position P + t and, when
// causal, sees keys at positions <= P + t. Query head h reads kv head
// h / (Hq / Hkv) (grouped-query; Hkv = 1 is multi-query). Scores are
// scale * q.k with scale 0 meaning 1 / sqrt(Dh); scores, the softmax and the
// weighted sum of v are computed in f64.

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/cpu/rows.h"

namespace kiln::kernels::cpu {
namespace {

struct AttentionDims {
  int64_t tokens = 0, q_heads = 0, kv_heads = 0, head_dim = 0;
  int64_t past = 0;
  bool causal = true;
  double scale = 0.0;
};

absl::StatusOr<AttentionDims> attention_dims(const KernelArgs& args) {
  const TensorView& q = args.inputs[0];
  const TensorView& k = args.inputs[1];
  const TensorView& v = args.inputs[2];
  if (q.shape.size() != 3 || k.shape.size() != 3 || k.shape != v.shape) {
    return kernel_error(args, absl::StrCat("expected q [T, Hq, Dh] and k, v [S, Hkv, Dh] of one shape, got q ",
                                           dims_string(q.shape), ", k ", dims_string(k.shape), ", v ",
                                           dims_string(v.shape)));
  }
  AttentionDims d{q.dim(0), q.dim(1), k.dim(1), q.dim(2), args.param("past"), bool_constant(args, "causal"),
                  real_constant(args, "scale")};
  if (k.dim(2) != d.head_dim || d.kv_heads == 0 || d.q_heads % d.kv_heads != 0) {
    return kernel_error(args, absl::StrCat("k ", dims_string(k.shape), " does not match q ", dims_string(q.shape),
                                           ": head_dim must agree and kv heads divide query heads"));
  }
  if (d.past < 0 || d.past + d.tokens > k.dim(0)) {
    return kernel_error(args, absl::StrCat("P + T = ", d.past, " + ", d.tokens, " exceeds the ", k.dim(0),
                                           " rows of k and v"));
  }
  if (d.scale == 0.0) d.scale = 1.0 / std::sqrt(static_cast<double>(d.head_dim));
  if (absl::Status s = expect_shape(args, "output 0", args.outputs[0], q.shape); !s.ok()) return s;
  return d;
}

// Scratch for one query row: its f32 values, a key or value row, and the
// scores of every visible key.
struct RowScratch {
  std::vector<float> query, key;
  std::vector<double> scores, sum;
};

void attend(const KernelArgs& args, const AttentionDims& d, int64_t t, int64_t h, RowScratch& scratch) {
  const TensorView& k = args.inputs[1];
  const TensorView& v = args.inputs[2];
  const int64_t kv_head = h / (d.q_heads / d.kv_heads);
  const int64_t visible = d.causal ? d.past + t + 1 : d.past + d.tokens;
  load_floats(args.inputs[0], (t * d.q_heads + h) * d.head_dim, d.head_dim, scratch.query.data());
  double max = -INFINITY;
  for (int64_t j = 0; j < visible; ++j) {
    load_floats(k, (j * d.kv_heads + kv_head) * d.head_dim, d.head_dim, scratch.key.data());
    double score = 0.0;
    for (int64_t i = 0; i < d.head_dim; ++i) score += static_cast<double>(scratch.query[i]) * scratch.key[i];
    scratch.scores[j] = score * d.scale;
    max = std::max(max, scratch.scores[j]);
  }
  double total = 0.0;
  std::fill(scratch.sum.begin(), scratch.sum.end(), 0.0);
  for (int64_t j = 0; j < visible; ++j) {
    const double weight = std::exp(scratch.scores[j] - max);
    total += weight;
    load_floats(v, (j * d.kv_heads + kv_head) * d.head_dim, d.head_dim, scratch.key.data());
    for (int64_t i = 0; i < d.head_dim; ++i) scratch.sum[i] += weight * scratch.key[i];
  }
  const int64_t out = (t * d.q_heads + h) * d.head_dim;
  for (int64_t i = 0; i < d.head_dim; ++i) args.outputs[0].store(out + i, static_cast<float>(scratch.sum[i] / total));
}

}  // namespace

absl::Status run_attention(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 3, 3, 1); !s.ok()) return s;
  absl::StatusOr<AttentionDims> dims = attention_dims(args);
  if (!dims.ok()) return dims.status();
  const AttentionDims& d = *dims;
  const int64_t keys = d.past + d.tokens;
  parallel_for(d.tokens * d.q_heads, 4 * keys * d.head_dim, [&](int64_t begin, int64_t end) {
    RowScratch scratch{std::vector<float>(d.head_dim), std::vector<float>(d.head_dim), std::vector<double>(keys),
                       std::vector<double>(d.head_dim)};
    for (int64_t item = begin; item < end; ++item) attend(args, d, item / d.q_heads, item % d.q_heads, scratch);
  });
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
