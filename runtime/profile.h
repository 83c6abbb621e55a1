#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "program/program.h"

namespace kiln::runtime {

// GPU time of one (kernel, variant), summed over its dispatches and steps.
struct KernelTime {
  std::string kernel;
  std::string variant;
  uint64_t dispatches = 0;  // dispatch runs counted
  uint64_t nanoseconds = 0;
};

// Adds `entries` (a plugin's per-dispatch profile of `program`) into
// `totals`, one row per (kernel, variant).
void add_profile(const program::Program& program, std::span<const kiln_profile_entry> entries,
                 std::vector<KernelTime>& totals);

// The table --profile prints: one row per (kernel, variant), slowest first,
// with total ms, share of the total, dispatches and mean µs per dispatch.
std::string profile_table(std::vector<KernelTime> totals);

}  // namespace kiln::runtime
