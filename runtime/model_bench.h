#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "program/program.h"
#include "runtime/session.h"

namespace kiln::runtime {

// What `kiln bench` measures on an open session: per rep, a fresh context,
// a prefill of `prompt_len` random ids (chunked as the session feeds), then
// `gen` greedy decode steps, each one backend call that reads back the id
// the device's argmax chose.
struct BenchOptions {
  int64_t prompt_len = 512;
  int64_t gen = 128;
  int reps = 5;
  uint64_t seed = 0;  // of the prompt ids
};

// The bytes one decode token reads from device memory, as a bandwidth-bound
// step must: every weight a dispatch reads (an embedding table only for
// its one row, unless the lm head reads it whole) and the KV rows attention
// reads, at the mean context of the decode steps.
struct DecodeTraffic {
  int64_t weight_bytes = 0;
  int64_t kv_bytes_per_position = 0;  // K and V of every layer, one position
  double mean_context = 0;            // positions attended over, averaged over the steps
  double kv_bytes() const { return static_cast<double>(kv_bytes_per_position) * mean_context; }
  double bytes() const { return static_cast<double>(weight_bytes) + kv_bytes(); }
};

// `decode` is the session's decode Program; the steps attend over
// [prompt_len + 1, prompt_len + gen] positions.
DecodeTraffic decode_traffic(const program::Program& decode, int64_t prompt_len, int64_t gen);

// A figure over the reps.
struct Spread {
  double median = 0, min = 0, max = 0;
};
Spread spread_of(std::vector<double> values);

struct BenchRep {
  double prefill_seconds = 0;
  double decode_seconds = 0;
  kiln_counters decode_counters{};  // the decode steps' alone
};

struct BenchResult {
  BenchOptions options;
  std::vector<BenchRep> reps;
  DecodeTraffic traffic;
  Spread prefill_tok_s, decode_tok_s, ms_per_token, effective_gb_s;
  // Means per decode token over every rep.
  double submits = 0, dispatches = 0, allocations = 0, bytes_read_back = 0, bytes_written = 0, steps = 0;
};

// Needs a session opened with greedy device sampling and a context of at
// least prompt_len + gen tokens. Fails on the first error of a step.
absl::StatusOr<BenchResult> run_model_bench(Session& session, const BenchOptions& options);

}  // namespace kiln::runtime
