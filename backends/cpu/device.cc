#include "backends/cpu/device.h"

#include <unistd.h>

#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/thread_pool.h"

namespace kiln::backends::cpu {
namespace {

// The first "model name" of /proc/cpuinfo; "CPU" where there is none (not
// Linux, or an architecture that names it otherwise).
std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon + 2 > line.size()) break;
    return line.substr(colon + 2);
  }
  return "CPU";
}

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return UINT64_MAX;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
}

std::string device_name(int threads) {
  return absl::StrCat(cpu_model(), " (", threads, threads == 1 ? " thread)" : " threads)");
}

}  // namespace

absl::StatusOr<Device> open_device(const kiln_device_options& options) {
  if (options.threads < 0 || options.threads > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("device option threads = ", options.threads, ": expected 1 to 1024, or 0 for the default"));
  }
  const int threads = options.threads > 0 ? options.threads : kernels::cpu::default_threads();
  Device device{{}, std::make_unique<kernels::cpu::ThreadPool>(threads)};
  device.counters.struct_size = sizeof device.counters;
  return device;
}

kiln_capabilities capabilities(int threads) {
  kiln_capabilities caps{};
  caps.struct_size = sizeof caps;
  std::strncpy(caps.device_name, device_name(threads).c_str(), sizeof caps.device_name - 1);
  std::strncpy(caps.driver, "kiln cpu reference kernels", sizeof caps.driver - 1);
  caps.device_type = KILN_DEVICE_CPU;
  caps.compute_units = static_cast<uint32_t>(threads);
  caps.device_memory_bytes = physical_memory_bytes();
  caps.max_buffer_bytes = physical_memory_bytes();
  caps.max_workgroup_size = 1;
  caps.storage_offset_alignment = 1;
  caps.f16_storage = 1;
  caps.f16_arithmetic = 1;
  caps.bf16 = 1;
  return caps;
}

}  // namespace kiln::backends::cpu
