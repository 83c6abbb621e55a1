#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "absl/strings/str_cat.h"

namespace kiln::runtime {
namespace {

struct Candidate {
  int32_t id;
  double logit;
};

// Larger logit first; the lower id first among equal logits, so top-k = 1
// agrees with argmax.
bool more_likely(const Candidate& a, const Candidate& b) {
  return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
}

std::vector<Candidate> penalised(std::span<const float> logits, std::span<const int32_t> history,
                                 const SamplingOptions& options) {
  // A NaN logit (a broken model) must not break the sort's ordering: it
  // becomes the least likely token.
  std::vector<Candidate> candidates(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    const double logit = std::isnan(logits[i]) ? -std::numeric_limits<double>::infinity() : logits[i];
    candidates[i] = {static_cast<int32_t>(i), logit};
  }
  if (options.repeat_penalty == 1.0) return candidates;
  const size_t window = std::min(history.size(), static_cast<size_t>(options.repeat_last_n));
  const std::unordered_set<int32_t> recent(history.end() - window, history.end());
  for (int32_t id : recent) {
    if (id < 0 || static_cast<size_t>(id) >= candidates.size()) continue;
    double& logit = candidates[id].logit;
    logit = logit > 0 ? logit / options.repeat_penalty : logit * options.repeat_penalty;
  }
  return candidates;
}

// Sorts the candidates that survive top-k, most likely first.
void keep_top_k(std::vector<Candidate>& candidates, int64_t top_k) {
  const size_t keep = top_k > 0 ? std::min(candidates.size(), static_cast<size_t>(top_k)) : candidates.size();
  std::partial_sort(candidates.begin(), candidates.begin() + keep, candidates.end(), more_likely);
  candidates.resize(keep);
}

std::vector<TokenProbability> softmax(const std::vector<Candidate>& sorted, double temperature) {
  std::vector<TokenProbability> probabilities;
  double total = 0;
  for (const Candidate& c : sorted) {
    const double weight = std::exp((c.logit - sorted.front().logit) / temperature);
    probabilities.push_back({c.id, weight});
    total += weight;
  }
  for (TokenProbability& p : probabilities) p.probability /= total;
  return probabilities;
}

void keep_top_p(std::vector<TokenProbability>& sorted, double top_p) {
  double mass = 0;
  size_t keep = 0;
  while (keep < sorted.size() && (keep == 0 || mass < top_p)) mass += sorted[keep++].probability;
  sorted.resize(keep);
  for (TokenProbability& p : sorted) p.probability /= mass;
}

}  // namespace

absl::Status validate_sampling(const SamplingOptions& options) {
  if (!(options.temperature >= 0) || !std::isfinite(options.temperature)) {
    return absl::InvalidArgumentError(absl::StrCat("--temp ", options.temperature, " must be >= 0"));
  }
  if (options.top_k < 0) return absl::InvalidArgumentError(absl::StrCat("--top-k ", options.top_k, " must be >= 0"));
  if (!(options.top_p > 0 && options.top_p <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("--top-p ", options.top_p, " must be in (0, 1]"));
  }
  if (!(options.repeat_penalty > 0) || !std::isfinite(options.repeat_penalty)) {
    return absl::InvalidArgumentError(absl::StrCat("--repeat-penalty ", options.repeat_penalty, " must be > 0"));
  }
  if (options.repeat_last_n < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--repeat-last-n ", options.repeat_last_n, " must be >= 0"));
  }
  return absl::OkStatus();
}

Sampler::Sampler(const SamplingOptions& options) : options_(options), engine_(options.seed) {}

std::vector<TokenProbability> Sampler::distribution(std::span<const float> logits,
                                                    std::span<const int32_t> history) const {
  std::vector<Candidate> candidates = penalised(logits, history, options_);
  if (candidates.empty()) return {};
  if (options_.temperature == 0) {
    return {{std::min_element(candidates.begin(), candidates.end(), more_likely)->id, 1.0}};
  }
  keep_top_k(candidates, options_.top_k);
  std::vector<TokenProbability> probabilities = softmax(candidates, options_.temperature);
  keep_top_p(probabilities, options_.top_p);
  return probabilities;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  const std::vector<TokenProbability> candidates = distribution(logits, history);
  if (candidates.size() == 1) return candidates.front().id;
  const double u = next_uniform();
  double mass = 0;
  for (const TokenProbability& candidate : candidates) {
    mass += candidate.probability;
    if (u < mass) return candidate.id;
  }
  return candidates.back().id;  // u within rounding of 1
}

double Sampler::next_uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

}  // namespace kiln::runtime
