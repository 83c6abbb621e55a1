#pragma once

#include <cstdint>
#include <string>

namespace kiln::passes {

// What the compiler knows of the backend it compiles for: the plugin's
// kiln_capabilities in C++ form. Fusion conditions and kernel-variant tables
// read it; nothing else about the backend reaches the passes.
struct Target {
  std::string backend = "cpu";
  bool has_f16 = false;
  int64_t subgroup_size = 0;        // 0: no subgroup operations
  int64_t shared_memory_bytes = 0;  // per workgroup; 0 when not a GPU
  int64_t max_buffer_bytes = 0;     // 0: unlimited; weight chunks are planned within it
  bool has_cooperative_matrix = false;  // f16 cooperative-matrix multiply (Vulkan's NV extension)
  int64_t compute_units = 0;        // 0: unknown; a GPU fusion rule must fill this many workgroups
};

}  // namespace kiln::passes
