// The cpu thread pool's cost per parallel_for call (kernels/cpu/parallel_for.h):
// what a dispatch pays to hand its rows to the workers and wait for them,
// measured with little work beside it. Each call covers 8 chunks (4 per
// thread on two threads) that spin 1 us each, priced just above the inline
// threshold so that it goes to the pool: on two threads a call takes 4 us
// plus the hand-off, 8 us when the worker does not come in time to help.
//
// `gap_us` is serial work between calls, as a decode step has between two
// parallel kernels (an inline kernel, the executable's bookkeeping): at 0 the
// calls come back to back; at 20 and 100 a worker that sleeps between jobs
// must be woken for each. Times are wall time (the workers' time is the
// point), so run it on an idle machine.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "benchmark/benchmark.h"
#include "kernels/cpu/parallel_for.h"

namespace kiln::kernels::cpu {
namespace {

void spin_for(std::chrono::microseconds gap) {
  const auto until = std::chrono::steady_clock::now() + gap;
  while (std::chrono::steady_clock::now() < until) {
  }
}

// Each iteration's time is the call alone (manual time), the gap before it
// excluded.
void BM_ParallelFor(benchmark::State& state) {
  const std::chrono::microseconds gap(state.range(0));
  const int64_t items = 8;
  std::atomic<int64_t> sink{0};
  for (auto _ : state) {
    spin_for(gap);
    const auto start = std::chrono::steady_clock::now();
    parallel_for(items, kInlineCost / items + 1, [&](int64_t begin, int64_t end) {
      spin_for(std::chrono::microseconds(end - begin));
      sink.fetch_add(end - begin, std::memory_order_relaxed);
    });
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (sink.load() != items * static_cast<int64_t>(state.iterations())) state.SkipWithError("a chunk was lost");
  state.counters["threads"] = parallel_threads();
}
// A fixed count of calls: the gaps are not timed, so google-benchmark's own
// choice would run them for far longer than the timed calls.
BENCHMARK(BM_ParallelFor)->Arg(0)->Arg(20)->Arg(100)->Iterations(3000)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kiln::kernels::cpu

BENCHMARK_MAIN();
