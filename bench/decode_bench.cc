// Model benchmark: prefill and decode throughput of the shipped default
// model on a backend (KILN_BENCH_BACKEND, default cpu), with the counters
// the performance guardrails name (submits, allocations and readbacks per
// token) reported beside tokens/s.

#include <cstdlib>
#include <memory>
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

std::unique_ptr<runtime::Session> open_session(benchmark::State& state) {
  runtime::SessionOptions options;
  options.backend = backend_name();
  absl::StatusOr<std::unique_ptr<runtime::Session>> session =
      runtime::Session::open(KILN_SOURCE_DIR "/models/kjv-llama.gguf", options);
  if (!session.ok()) {
    state.SkipWithError(std::string(session.status().message()).c_str());
    return nullptr;
  }
  return *std::move(session);
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

void BM_Decode(benchmark::State& state) {
  std::unique_ptr<runtime::Session> session = open_session(state);
  if (session == nullptr) return;
  const int32_t token = 5;
  const kiln_counters before = session->decode_counters();
  int64_t steps = 0;
  for (auto _ : state) {
    if (session->position() + 1 >= session->context()) session->reset();
    benchmark::DoNotOptimize(session->feed({&token, 1}));
    ++steps;
  }
  const kiln_counters after = session->decode_counters();
  const double n = static_cast<double>(steps);
  state.counters["tok/s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["submits/tok"] = static_cast<double>(after.submits - before.submits) / n;
  state.counters["allocs/tok"] = static_cast<double>(after.allocations - before.allocations) / n;
  state.counters["readbacks/tok"] = static_cast<double>(after.readbacks - before.readbacks) / n;
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace kiln::bench

BENCHMARK_MAIN();
