#pragma once

#include <cstdint>
#include <vector>

namespace kiln::kernels::cpu::vector {

// The instruction sets (Highway targets, named by their Highway bit) the
// kernels were compiled for. Every kernel call dispatches to the best of
// them this machine runs, chosen at its first call.

// The targets this machine runs, best first.
std::vector<int64_t> runnable_targets();

// Highway's name for `target`, such as "AVX3" or "EMU128".
const char* target_name(int64_t target);

// The name of the target the next kernel call runs on.
const char* active_target();

// For tests and benchmarks: makes every Highway kernel in the process (not
// only these) dispatch to `target`, one of runnable_targets(), or to the
// best again when `target` is 0. Must not run while a kernel runs.
void force_target(int64_t target);

}  // namespace kiln::kernels::cpu::vector
