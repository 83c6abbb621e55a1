#pragma once

#include <cstdint>

#include "absl/functional/function_ref.h"

namespace kiln::kernels::cpu {

// Runs fn(begin, end) over disjoint ranges covering [0, count), on the
// calling thread and the workers of this thread's pool (current_pool() in
// thread_pool.h: the device's pool during a cpu step; elsewhere a
// process-wide pool of default_threads()), and returns when every range is
// done. Allocates nothing.
//
// `cost_per_item` estimates one item's work in multiply-adds. Work below
// kInlineCost in total runs on the calling thread alone, since handing it to
// a worker would cost more than doing it. A call made while the pool serves
// another call (a nested call, or a second executable running on another
// thread) also runs inline, so callers never wait on each other.
//
// fn must not throw, and must write only to memory that no other range
// writes.
void parallel_for(int64_t count, int64_t cost_per_item, absl::FunctionRef<void(int64_t begin, int64_t end)> fn);

// Threads parallel_for may use on this thread, the caller included.
int parallel_threads();

inline constexpr int64_t kInlineCost = 1 << 15;

}  // namespace kiln::kernels::cpu
