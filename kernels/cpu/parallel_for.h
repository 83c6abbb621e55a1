#pragma once

#include <cstdint>
#include <functional>

namespace kiln::kernels::cpu {

// Runs fn(begin, end) over disjoint ranges covering [0, count), on the
// calling thread and a process-wide pool of worker threads (one per CPU of
// the process's affinity mask, or KILN_CPU_THREADS in all, less the
// caller), and returns when every range is done.
//
// `cost_per_item` estimates one item's work in multiply-adds. Work below
// kInlineCost in total runs on the calling thread alone, since handing it to
// a worker would cost more than doing it. A call made while the pool serves
// another call (a nested call, or a second executable running on another
// thread) also runs inline, so callers never wait on each other.
//
// fn must not throw, and must write only to memory that no other range
// writes.
void parallel_for(int64_t count, int64_t cost_per_item, const std::function<void(int64_t begin, int64_t end)>& fn);

// Threads parallel_for may use, the caller included.
int parallel_threads();

inline constexpr int64_t kInlineCost = 1 << 15;

}  // namespace kiln::kernels::cpu
