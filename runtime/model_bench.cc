#include "runtime/model_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"

namespace kiln::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

kiln_counters minus(const kiln_counters& after, const kiln_counters& before) {
  kiln_counters out = after;
  out.steps -= before.steps;
  out.submits -= before.submits;
  out.dispatches -= before.dispatches;
  out.allocations -= before.allocations;
  out.builds -= before.builds;
  out.bytes_to_device -= before.bytes_to_device;
  out.bytes_from_device -= before.bytes_from_device;
  out.readbacks -= before.readbacks;
  return out;
}

// Bytes a dispatch of `decode` reads of weight `index` per step: an
// embedding table gives one row per token, any other reader the whole.
int64_t weight_bytes_read(const program::Program& decode, int32_t index) {
  bool read = false, read_whole = false;
  for (const program::Dispatch& dispatch : decode.dispatches) {
    for (const program::TensorRef& input : dispatch.inputs) {
      if (input.region != program::Region::weight || input.weight != index) continue;
      read = true;
      read_whole = read_whole || dispatch.kernel != "embedding";
    }
  }
  const program::WeightEntry& entry = decode.weights[index];
  if (!read) return 0;
  if (read_whole || entry.shape.empty()) return entry.bytes;
  return entry.bytes / entry.shape[0];
}

// A synthetic model whose activations overflow would measure nothing.
absl::Status check_finite(const Candidates& candidates, int64_t position) {
  for (float logit : candidates.logits) {
    if (!std::isfinite(logit)) {
      return absl::DataLossError(absl::StrCat("the logit of the token chosen at position ", position,
                                              " is not finite: the model's weights overflow"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<BenchRep> run_rep(Session& session, const BenchOptions& options, std::mt19937_64& random) {
  std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(session.vocab_size() - 1));
  std::vector<int32_t> tokens(options.prompt_len);
  for (int32_t& token : tokens) token = id(random);
  tokens.reserve(options.prompt_len + options.gen + 1);
  BenchRep rep;
  session.reset();
  const Clock::time_point prefill_start = Clock::now();
  absl::StatusOr<Candidates> next = session.feed_and_sample(tokens, tokens);
  if (!next.ok()) return next.status();
  if (absl::Status s = check_finite(*next, session.position()); !s.ok()) return s;
  rep.prefill_seconds = seconds_since(prefill_start);
  const kiln_counters before = session.counters();
  const Clock::time_point decode_start = Clock::now();
  for (int64_t step = 0; step < options.gen; ++step) {
    tokens.push_back(next->ids.front());
    next = session.feed_and_sample(std::span(tokens).last(1), tokens);
    if (!next.ok()) return next.status();
  }
  rep.decode_seconds = seconds_since(decode_start);
  rep.decode_counters = minus(session.counters(), before);
  if (absl::Status s = check_finite(*next, session.position()); !s.ok()) return s;
  return rep;
}

}  // namespace

DecodeTraffic decode_traffic(const program::Program& decode, int64_t prompt_len, int64_t gen) {
  DecodeTraffic traffic;
  for (size_t i = 0; i < decode.weights.size(); ++i) {
    traffic.weight_bytes += weight_bytes_read(decode, static_cast<int32_t>(i));
  }
  for (const program::Binding& state : decode.states) {
    const program::TensorRef& ref = state.ref;
    if (ref.shape.empty() || !ref.shape[0].is_static() || ref.shape[0].value == 0) continue;
    int64_t elements = 1;
    for (const program::Dim& dim : ref.shape) elements *= dim.is_static() ? dim.value : 0;
    traffic.kv_bytes_per_position += program::dtype_bytes(ref.dtype, elements) / ref.shape[0].value;
  }
  // Decode step s (0-based) feeds position prompt_len + s and attends over
  // prompt_len + s + 1 positions.
  traffic.mean_context = static_cast<double>(prompt_len) + static_cast<double>(gen + 1) / 2;
  return traffic;
}

Spread spread_of(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  const double median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {.median = median, .min = values.front(), .max = values.back()};
}

absl::StatusOr<BenchResult> run_model_bench(Session& session, const BenchOptions& options) {
  if (options.prompt_len < 1 || options.gen < 1 || options.reps < 1) {
    return absl::InvalidArgumentError("the prompt length, the tokens generated and the reps must be at least 1");
  }
  if (options.prompt_len + options.gen > session.context()) {
    return absl::InvalidArgumentError(absl::StrCat("a prompt of ", options.prompt_len, " tokens + ", options.gen,
                                                   " generated exceeds the context of ", session.context()));
  }
  BenchResult result;
  result.options = options;
  result.traffic = decode_traffic(session.programs().decode, options.prompt_len, options.gen);
  std::mt19937_64 random(options.seed);
  std::vector<double> prefill, decode, ms, gb_s;
  kiln_counters total{};
  for (int rep = 0; rep < options.reps; ++rep) {
    absl::StatusOr<BenchRep> one = run_rep(session, options, random);
    if (!one.ok()) return one.status();
    const double tokens = static_cast<double>(options.gen);
    prefill.push_back(static_cast<double>(options.prompt_len) / one->prefill_seconds);
    decode.push_back(tokens / one->decode_seconds);
    ms.push_back(one->decode_seconds * 1e3 / tokens);
    gb_s.push_back(result.traffic.bytes() * tokens / one->decode_seconds / 1e9);
    const kiln_counters& c = one->decode_counters;
    for (auto [sum, value] : {std::pair{&total.steps, c.steps}, std::pair{&total.submits, c.submits},
                              std::pair{&total.dispatches, c.dispatches}, std::pair{&total.allocations, c.allocations},
                              std::pair{&total.bytes_from_device, c.bytes_from_device},
                              std::pair{&total.bytes_to_device, c.bytes_to_device}}) {
      *sum += value;
    }
    result.reps.push_back(*one);
  }
  result.prefill_tok_s = spread_of(prefill);
  result.decode_tok_s = spread_of(decode);
  result.ms_per_token = spread_of(ms);
  result.effective_gb_s = spread_of(gb_s);
  const double tokens = static_cast<double>(options.gen) * options.reps;
  result.steps = static_cast<double>(total.steps) / tokens;
  result.submits = static_cast<double>(total.submits) / tokens;
  result.dispatches = static_cast<double>(total.dispatches) / tokens;
  result.allocations = static_cast<double>(total.allocations) / tokens;
  result.bytes_read_back = static_cast<double>(total.bytes_from_device) / tokens;
  result.bytes_written = static_cast<double>(total.bytes_to_device) / tokens;
  return result;
}

}  // namespace kiln::runtime
