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

// A NaN logit (a broken model) must not break the sort's ordering: it
// becomes the least likely token.
double finite_order(float logit) { return std::isnan(logit) ? -std::numeric_limits<double>::infinity() : logit; }

// Applies the repetition penalty to the candidates whose id is among the
// last repeat_last_n of `history`.
std::vector<Candidate> penalised(std::vector<Candidate> candidates, std::span<const int32_t> history,
                                 const SamplingOptions& options) {
  if (options.repeat_penalty == 1.0) return candidates;
  const size_t window = std::min(history.size(), static_cast<size_t>(options.repeat_last_n));
  const std::unordered_set<int32_t> recent(history.end() - window, history.end());
  for (Candidate& candidate : candidates) {
    if (!recent.contains(candidate.id)) continue;
    double& logit = candidate.logit;
    logit = logit > 0 ? logit / options.repeat_penalty : logit * options.repeat_penalty;
  }
  return candidates;
}

std::vector<Candidate> all_tokens(std::span<const float> logits) {
  std::vector<Candidate> candidates(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) candidates[i] = {static_cast<int32_t>(i), finite_order(logits[i])};
  return candidates;
}

// Sorts the candidates that survive top-k, most likely first.
void keep_top_k(std::vector<Candidate>& candidates, int64_t top_k) {
  const size_t keep = top_k > 0 ? std::min(candidates.size(), static_cast<size_t>(top_k)) : candidates.size();
  std::partial_sort(candidates.begin(), candidates.begin() + keep, candidates.end(), more_likely);
  candidates.resize(keep);
}

std::vector<TokenProbability> softmax(const std::vector<Candidate>& sorted, double temperature);
void keep_top_p(std::vector<TokenProbability>& sorted, double top_p);

// Steps 2-5 of the pipeline on penalised candidates.
std::vector<TokenProbability> distribution_of(std::vector<Candidate> candidates, const SamplingOptions& options) {
  if (candidates.empty()) return {};
  if (options.temperature == 0) {
    return {{std::min_element(candidates.begin(), candidates.end(), more_likely)->id, 1.0}};
  }
  keep_top_k(candidates, options.top_k);
  std::vector<TokenProbability> probabilities = softmax(candidates, options.temperature);
  keep_top_p(probabilities, options.top_p);
  return probabilities;
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
  return distribution_of(penalised(all_tokens(logits), history, options_), options_);
}

std::vector<TokenProbability> Sampler::candidate_distribution(std::span<const int32_t> ids,
                                                              std::span<const float> logits,
                                                              std::span<const int32_t> history) const {
  std::vector<Candidate> candidates(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) candidates[i] = {ids[i], finite_order(logits[i])};
  return distribution_of(penalised(std::move(candidates), history, options_), options_);
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  return draw(distribution(logits, history));
}

int32_t Sampler::sample_candidates(std::span<const int32_t> ids, std::span<const float> logits,
                                   std::span<const int32_t> history) {
  return draw(candidate_distribution(ids, logits, history));
}

int32_t Sampler::draw(const std::vector<TokenProbability>& candidates) {
  if (candidates.size() == 1) return candidates.front().id;
  const double u = next_uniform();
  double mass = 0;
  for (const TokenProbability& candidate : candidates) {
    mass += candidate.probability;
    if (u < mass) return candidate.id;
  }
  return candidates.back().id;  // u within rounding of 1
}

std::vector<int32_t> recent_tokens(std::span<const int32_t> history, int64_t repeat_last_n, int64_t window) {
  std::vector<int32_t> recent;
  const size_t last = std::min(history.size(), static_cast<size_t>(std::max<int64_t>(repeat_last_n, 0)));
  std::unordered_set<int32_t> seen;
  for (size_t i = 0; i < last && static_cast<int64_t>(recent.size()) < window; ++i) {
    const int32_t id = history[history.size() - 1 - i];
    if (seen.insert(id).second) recent.push_back(id);
  }
  recent.resize(std::max<int64_t>(window, 0), -1);
  return recent;
}

double Sampler::next_uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

}  // namespace kiln::runtime
