#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace kiln::runtime {

struct SamplingOptions {
  double temperature = 0.8;     // 0: greedy (argmax, first on ties)
  int64_t top_k = 40;           // keep the k most likely tokens; 0: all
  double top_p = 0.95;          // keep the fewest tokens whose mass reaches p; 1: all
  double repeat_penalty = 1.0;  // > 1 discourages recent tokens; 1: off
  int64_t repeat_last_n = 64;   // how many of the latest tokens the penalty sees
  uint64_t seed = 0;            // same seed, same logits: same tokens
};

// Fails naming the option out of range ("--top-p 1.5 must be in (0, 1]").
absl::Status validate_sampling(const SamplingOptions& options);

// The distinct ids among the last repeat_last_n of `history`, in order of
// first appearance from the end, padded with -1 to `window` entries: the
// `recent` input of the device's top_k op.
std::vector<int32_t> recent_tokens(std::span<const int32_t> history, int64_t repeat_last_n, int64_t window);

// A token and the probability the sampler gives it.
struct TokenProbability {
  int32_t id;
  double probability;
};

// Picks tokens from logits, in this order (as HF transformers does):
//   1. repetition penalty on each distinct token among the last
//      repeat_last_n of `history`: a positive logit is divided by the
//      penalty, a negative one multiplied (CTRL; llama.cpp and HF alike);
//   2. temperature 0: the argmax, and nothing below applies;
//   3. top-k: the k largest logits (ties to the lower id);
//   4. softmax of logit / temperature, in f64;
//   5. top-p: the most likely tokens, in order, until their mass reaches p;
//   6. a draw from what remains, renormalised.
// The draw is portable: std::mt19937_64's 64-bit output (fixed by the
// standard) mapped to [0, 1) by its top 53 bits, so a seed gives the same
// tokens on every platform and compiler.
class Sampler {
 public:
  explicit Sampler(const SamplingOptions& options);

  // `logits` holds one value per vocabulary entry (at least one).
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

  // The same draw from candidates a device's top_k op chose (ir/ops.cc):
  // `ids` and their raw `logits`, at least top_k of them (or every token
  // when top_k is 0). The penalty and the softmax are computed here in f64
  // exactly as for full logits, so a seed gives the same tokens either way.
  int32_t sample_candidates(std::span<const int32_t> ids, std::span<const float> logits,
                            std::span<const int32_t> history);

  // The candidates step 6 draws from, most likely first; for temperature 0
  // the argmax with probability 1.
  std::vector<TokenProbability> distribution(std::span<const float> logits,
                                             std::span<const int32_t> history) const;
  std::vector<TokenProbability> candidate_distribution(std::span<const int32_t> ids, std::span<const float> logits,
                                                       std::span<const int32_t> history) const;

  const SamplingOptions& options() const { return options_; }

 private:
  double next_uniform();
  int32_t draw(const std::vector<TokenProbability>& candidates);

  SamplingOptions options_;
  std::mt19937_64 engine_;
};

}  // namespace kiln::runtime
