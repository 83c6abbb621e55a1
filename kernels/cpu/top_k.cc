// top_k(logits[..., V], recent[W]?) {k, penalty} -> (ids i32[k], values
// f32[k]) over the last row, as ir/ops.cc defines it. The penalised logits
// are compared in f64, as the host sampler compares them, so the cpu
// plugin's candidates are the ones the sampler would pick from full logits.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/cpu/checks.h"
#include "kernels/cpu/constants.h"
#include "kernels/cpu/op_kernels.h"
#include "kernels/cpu/rows.h"

namespace kiln::kernels::cpu {
namespace {

struct Candidate {
  int32_t id;
  double logit;  // penalised
};

bool more_likely(const Candidate& a, const Candidate& b) {
  return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
}

}  // namespace

absl::Status run_top_k(const KernelArgs& args) {
  if (absl::Status s = expect_arity(args, 1, 2, 2); !s.ok()) return s;
  const TensorView& logits = args.inputs[0];
  const int64_t k = int_constant(args, "k");
  const double penalty = real_constant(args, "penalty");
  const int64_t vocab = row_length(logits);
  if (k < 1 || k > vocab) return kernel_error(args, "k must be in [1, vocab]");
  const int64_t last = (row_count(logits) - 1) * vocab;
  std::vector<Candidate> candidates(vocab);
  for (int64_t i = 0; i < vocab; ++i) {
    const double logit = logits.load(last + i);
    candidates[i] = {static_cast<int32_t>(i), std::isnan(logit) ? -std::numeric_limits<double>::infinity() : logit};
  }
  if (args.inputs.size() == 2 && penalty != 1.0) {
    const TensorView& recent = args.inputs[1];
    std::vector<bool> seen(vocab, false);
    for (int64_t i = 0; i < recent.elements(); ++i) {
      int32_t id;
      std::memcpy(&id, recent.data + 4 * i, sizeof id);
      if (id < 0 || id >= vocab || seen[id]) continue;
      seen[id] = true;
      double& logit = candidates[id].logit;
      logit = logit > 0 ? logit / penalty : logit * penalty;
    }
  }
  std::partial_sort(candidates.begin(), candidates.begin() + k, candidates.end(), more_likely);
  const TensorView& ids = args.outputs[0];
  const TensorView& values = args.outputs[1];
  for (int64_t i = 0; i < k; ++i) {
    const int32_t id = candidates[i].id;
    std::memcpy(ids.data + 4 * i, &id, sizeof id);
    values.store(i, logits.load(last + id));
  }
  return absl::OkStatus();
}

}  // namespace kiln::kernels::cpu
