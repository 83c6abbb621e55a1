#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "absl/status/statusor.h"
#include "runtime/session.h"

namespace kiln::runtime {

struct PerplexityResult {
  double perplexity = 0;    // exp(mean_nll)
  double mean_nll = 0;      // nats per scored token
  int64_t scored_tokens = 0;
  int64_t windows = 0;
  int64_t window_tokens = 0;  // text tokens per window (the last may hold fewer)
  double uncertainty = 0;     // llama_cpp_perplexity only: its "+/-", the standard error of the perplexity
};

// Called after each window with the windows done and the windows in all.
using PerplexityProgress = std::function<void(int64_t done, int64_t windows)>;

// The perplexity of a text's token ids (without BOS), computed the way the
// training framework reports it for the default model:
//   - the ids are cut into consecutive windows of `window_tokens` ids
//     (0: the session's context - 1 with a BOS, the context without);
//   - each window runs in a fresh context, as [BOS] + window when the model
//     has a BOS token;
//   - every id is scored once, by -log softmax(logits of the token before
//     it) computed in f64; without a BOS the first id of each window has no
//     prediction and is not scored. No EOS is added.
// perplexity = exp(sum of -log p / scored tokens).
absl::StatusOr<PerplexityResult> perplexity(Session& session, std::span<const int32_t> ids,
                                            std::optional<int32_t> bos, int64_t window_tokens = 0,
                                            const PerplexityProgress& progress = {});

// The perplexity as llama.cpp's llama-perplexity computes it, so that the
// two can be compared:
//   - `ids` is the whole text tokenized with BOS (as the model asks), cut
//     into floor(size / n) windows of n = `window_tokens` ids (0: the
//     session's context); a partial last window is dropped;
//   - each window runs in a fresh context with its first id replaced by
//     `bos` (when the model has one);
//   - only the second half is scored: the ids at window positions
//     n/2 + 1 .. n - 1, each by -log softmax (f64) of the row before it;
//   - uncertainty = perplexity * sqrt((mean of nll^2 - mean_nll^2) /
//     (scored - 1)), llama-perplexity's "+/-".
// Fewer than 2n ids is an error, as in llama-perplexity.
absl::StatusOr<PerplexityResult> llama_cpp_perplexity(Session& session, std::span<const int32_t> ids,
                                                      std::optional<int32_t> bos, int64_t window_tokens = 0,
                                                      const PerplexityProgress& progress = {});

}  // namespace kiln::runtime
