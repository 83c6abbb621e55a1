#include "backends/cpu/device.h"

#include <unistd.h>

#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/parallel_for.h"

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

}  // namespace

Device open_device() {
  const int threads = kernels::cpu::parallel_threads();
  return Device{absl::StrCat(cpu_model(), " (", threads, threads == 1 ? " thread)" : " threads)")};
}

kiln_capabilities capabilities(const Device& device) {
  kiln_capabilities caps{};
  caps.struct_size = sizeof caps;
  std::strncpy(caps.device_name, device.name.c_str(), sizeof caps.device_name - 1);
  caps.has_f16 = 1;
  caps.subgroup_size = 0;
  caps.shared_memory_bytes = 0;
  caps.max_buffer_bytes = physical_memory_bytes();
  return caps;
}

}  // namespace kiln::backends::cpu
