#pragma once

#include <string>

#include "backends/backend.h"

namespace kiln::backends::cpu {

// The host CPU, the plugin's one device. Always available.
struct Device {
  std::string name;  // the CPU model and the kernels' thread count: "AMD EPYC 7B13 (16 threads)"
};

Device open_device();

// Every field of kiln_capabilities, struct_size included. f16 is emulated
// (converted to f32 on load), there are no subgroups or shared memory, and a
// buffer may take all of physical memory.
kiln_capabilities capabilities(const Device& device);

}  // namespace kiln::backends::cpu
