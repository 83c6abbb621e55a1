#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "kernels/cpu/thread_pool.h"

namespace kiln::backends::cpu {

// The host CPU, the plugin's one device. Always available. Its counters
// cover every executable made on it; its pool runs the kernels of every
// step of those executables (installed for the step, see ScopedPool).
struct Device {
  kiln_counters counters{};
  std::unique_ptr<kernels::cpu::ThreadPool> pool;
};

// Starts the device's pool: options.threads threads in all where it is
// positive, else default_threads() (KILN_CPU_THREADS, else the CPUs the
// process may run on). Refuses a negative count or one above 1024.
absl::StatusOr<Device> open_device(const kiln_device_options& options);

// Every field of kiln_capabilities, struct_size included, for a pool of
// `threads`: the device name is the CPU model and that count ("AMD EPYC
// 7B13 (16 threads)"), as is compute_units. f16 and bf16 are converted to
// f32 as kernels load them; there are no subgroups or shared memory, and a
// buffer may take all of physical memory. probe reports default_threads(),
// what a device opened without a thread count gets.
kiln_capabilities capabilities(int threads);

}  // namespace kiln::backends::cpu
