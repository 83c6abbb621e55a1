#pragma once

#include <cstdint>
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
};

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
                                            std::optional<int32_t> bos, int64_t window_tokens = 0);

}  // namespace kiln::runtime
