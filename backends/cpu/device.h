#pragma once

#include <string>

#include "backends/backend.h"

namespace kiln::backends::cpu {

// The host CPU, the plugin's one device. Always available. Its counters
// cover every executable made on it.
struct Device {
  std::string name;  // the CPU model and the kernels' thread count: "AMD EPYC 7B13 (16 threads)"
  kiln_counters counters{};
};

Device open_device(const kiln_device_options& options);

// Every field of kiln_capabilities, struct_size included. f16 and bf16 are
// converted to f32 as kernels load them; there are no subgroups or shared
// memory, and a buffer may take all of physical memory.
kiln_capabilities capabilities();

}  // namespace kiln::backends::cpu
