// Model benchmark: prefill and decode throughput of the shipped default
// model on a backend (KILN_BENCH_BACKEND, default cpu), with the device's
// counters per token (steps, submits, dispatches, allocations, readbacks,
// bytes each way) reported beside tokens/s.

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "runtime/session.h"

namespace kiln::bench {
namespace {

std::string backend_name() {
  const char* name = std::getenv("KILN_BENCH_BACKEND");
  return name == nullptr ? "cpu" : name;
}

// `sampling`: the Programs end in the device's top_k op for it (what
// `kiln run` opens); none: they end in logits.
std::unique_ptr<runtime::Session> open_session(benchmark::State& state,
                                               std::optional<runtime::SamplingOptions> sampling = std::nullopt) {
  runtime::SessionOptions options;
  options.backend = backend_name();
  options.sampling = sampling;
  absl::StatusOr<std::unique_ptr<runtime::Session>> session =
      runtime::Session::open(KILN_SOURCE_DIR "/models/kjv-llama.gguf", options);
  if (!session.ok()) {
    state.SkipWithError(std::string(session.status().message()).c_str());
    return nullptr;
  }
  return *std::move(session);
}

// The device's work per decoded token, from its counters.
void report_per_token(benchmark::State& state, const kiln_counters& before, const kiln_counters& after,
                      int64_t tokens) {
  const double n = static_cast<double>(tokens);
  state.counters["tok/s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["steps/tok"] = static_cast<double>(after.steps - before.steps) / n;
  state.counters["submits/tok"] = static_cast<double>(after.submits - before.submits) / n;
  state.counters["dispatches/tok"] = static_cast<double>(after.dispatches - before.dispatches) / n;
  state.counters["allocs/tok"] = static_cast<double>(after.allocations - before.allocations) / n;
  state.counters["readbacks/tok"] = static_cast<double>(after.readbacks - before.readbacks) / n;
  state.counters["bytes_in/tok"] = static_cast<double>(after.bytes_to_device - before.bytes_to_device) / n;
  state.counters["bytes_out/tok"] = static_cast<double>(after.bytes_from_device - before.bytes_from_device) / n;
}

void BM_Prefill(benchmark::State& state) {
  std::unique_ptr<runtime::Session> session = open_session(state);
  if (session == nullptr) return;
  const std::vector<int32_t> tokens(state.range(0), 5);
  for (auto _ : state) {
    session->reset();
    benchmark::DoNotOptimize(session->feed(tokens));
  }
  state.counters["tok/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * tokens.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Prefill)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

// Greedy decode as `kiln run --temp 0` runs it: the device's argmax, 4
// bytes read back per token.
void BM_DecodeGreedy(benchmark::State& state) {
  std::unique_ptr<runtime::Session> session = open_session(state, runtime::SamplingOptions{.temperature = 0});
  if (session == nullptr) return;
  std::vector<int32_t> history = {5};
  const kiln_counters before = session->counters();
  int64_t steps = 0;
  for (auto _ : state) {
    if (session->position() + 1 >= session->context()) {
      session->reset();
      history.resize(1);
    }
    absl::StatusOr<runtime::Candidates> next = session->feed_and_sample({&history.back(), 1}, history);
    if (!next.ok()) {
      state.SkipWithError(std::string(next.status().message()).c_str());
      return;
    }
    history.push_back(next->ids.front());
    ++steps;
  }
  report_per_token(state, before, session->counters(), steps);
}
BENCHMARK(BM_DecodeGreedy)->Unit(benchmark::kMillisecond)->UseRealTime();

// Decode reading the full logits back (what --dump-logits and perplexity
// need), for comparison.
void BM_DecodeLogits(benchmark::State& state) {
  std::unique_ptr<runtime::Session> session = open_session(state);
  if (session == nullptr) return;
  const int32_t token = 5;
  const kiln_counters before = session->counters();
  int64_t steps = 0;
  for (auto _ : state) {
    if (session->position() + 1 >= session->context()) session->reset();
    benchmark::DoNotOptimize(session->feed({&token, 1}));
    ++steps;
  }
  report_per_token(state, before, session->counters(), steps);
}
BENCHMARK(BM_DecodeLogits)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace kiln::bench

BENCHMARK_MAIN();
