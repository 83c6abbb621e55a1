#include "runtime/perplexity.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kiln::runtime {
namespace {

// -log softmax(row)[target], in f64.
double negative_log_likelihood(std::span<const float> row, int32_t target) {
  const double peak = *std::max_element(row.begin(), row.end());
  double total = 0;
  for (float logit : row) total += std::exp(logit - peak);
  return std::log(total) + peak - row[target];
}

}  // namespace

absl::StatusOr<PerplexityResult> perplexity(Session& session, std::span<const int32_t> ids,
                                            std::optional<int32_t> bos, int64_t window_tokens,
                                            const PerplexityProgress& progress) {
  const int64_t bos_slots = bos ? 1 : 0;
  if (window_tokens == 0) window_tokens = session.context() - bos_slots;
  if (window_tokens < 1 || window_tokens + bos_slots > session.context()) {
    return absl::InvalidArgumentError(absl::StrCat("a window of ", window_tokens, " tokens", bos ? " plus BOS" : "",
                                                   " does not fit the context of ", session.context()));
  }
  PerplexityResult result;
  result.window_tokens = window_tokens;
  double total = 0;
  const int64_t vocab = session.vocab_size();
  const int64_t windows = (static_cast<int64_t>(ids.size()) + window_tokens - 1) / window_tokens;
  for (size_t begin = 0; begin < ids.size(); begin += window_tokens) {
    const std::span<const int32_t> window = ids.subspan(begin, std::min<size_t>(window_tokens, ids.size() - begin));
    std::vector<int32_t> fed;
    if (bos) fed.push_back(*bos);
    fed.insert(fed.end(), window.begin(), window.end());
    session.reset();
    absl::StatusOr<std::vector<float>> logits = session.feed(fed, LogitRows::all);
    if (!logits.ok()) return logits.status();
    // Row r predicts fed[r + 1].
    for (size_t r = 0; r + 1 < fed.size(); ++r) {
      total += negative_log_likelihood(std::span<const float>(logits->data() + r * vocab, vocab), fed[r + 1]);
      ++result.scored_tokens;
    }
    ++result.windows;
    if (progress) progress(result.windows, windows);
  }
  if (result.scored_tokens == 0) return absl::InvalidArgumentError("the text has too few tokens to score");
  result.mean_nll = total / static_cast<double>(result.scored_tokens);
  result.perplexity = std::exp(result.mean_nll);
  return result;
}

absl::StatusOr<PerplexityResult> llama_cpp_perplexity(Session& session, std::span<const int32_t> ids,
                                                      std::optional<int32_t> bos, int64_t window_tokens,
                                                      const PerplexityProgress& progress) {
  const int64_t n = window_tokens == 0 ? session.context() : window_tokens;
  if (n < 4 || n > session.context()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a window of ", n, " tokens must be at least 4 and fit the context of ", session.context()));
  }
  const int64_t windows = static_cast<int64_t>(ids.size()) / n;
  if (windows < 2) {
    return absl::InvalidArgumentError(absl::StrCat("the text has ", ids.size(),
                                                   " tokens; llama-perplexity's method needs at least 2 windows of ",
                                                   n, " (", 2 * n, " tokens)"));
  }
  PerplexityResult result;
  result.window_tokens = n;
  double total = 0, total_squares = 0;
  const int64_t vocab = session.vocab_size();
  for (int64_t w = 0; w < windows; ++w) {
    std::vector<int32_t> fed(ids.begin() + w * n, ids.begin() + (w + 1) * n);
    if (bos) fed[0] = *bos;
    session.reset();
    absl::StatusOr<std::vector<float>> logits = session.feed(fed, LogitRows::all);
    if (!logits.ok()) return logits.status();
    // Row r predicts the text's id at position r + 1 (not fed[0], which BOS replaced).
    for (int64_t r = n / 2; r + 1 < n; ++r) {
      const double nll = negative_log_likelihood(std::span<const float>(logits->data() + r * vocab, vocab),
                                                 ids[w * n + r + 1]);
      total += nll;
      total_squares += nll * nll;
      ++result.scored_tokens;
    }
    ++result.windows;
    if (progress) progress(result.windows, windows);
  }
  const double count = static_cast<double>(result.scored_tokens);
  result.mean_nll = total / count;
  result.perplexity = std::exp(result.mean_nll);
  const double variance = total_squares / count - result.mean_nll * result.mean_nll;
  if (variance > 0 && result.scored_tokens > 1) {
    result.uncertainty = std::sqrt(variance / (count - 1)) * result.perplexity;
  }
  return result;
}

}  // namespace kiln::runtime
