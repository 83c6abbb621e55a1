#pragma once

#include <CL/cl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/opencl/subgroups.h"

namespace kiln::backends::opencl {

// One OpenCL device as the plugin lists it.
struct DeviceEntry {
  cl_platform_id platform = nullptr;
  cl_device_id device = nullptr;
  uint32_t platform_index = 0;  // in clGetPlatformIDs' order
  uint32_t device_index = 0;    // in clGetDeviceIDs' order on that platform
};

// The devices probe lists and create_device opens by index, without creating
// a context: GPUs first, then accelerators and other devices, then CPUs,
// each group in platform and device order. KILN_OPENCL_DEVICE=platform:device
// lists that one device alone (an error names it when it does not exist).
// Unavailable when no platform or device is found.
absl::StatusOr<std::vector<DeviceEntry>> list_devices();

// What the plugin and the compiler need to know of a device.
struct DeviceInfo {
  std::string name;
  std::string platform;
  std::string vendor;
  std::string version;         // CL_DEVICE_VERSION
  std::string driver_version;  // CL_DRIVER_VERSION
  std::string extensions;
  cl_device_type type = 0;
  uint32_t compute_units = 0;
  uint64_t global_memory_bytes = 0;
  uint64_t max_alloc_bytes = 0;
  uint64_t max_workgroup_size = 0;
  uint64_t local_memory_bytes = 0;
  uint32_t base_address_alignment_bytes = 0;
  bool host_unified_memory = false;  // an integrated GPU shares the host's memory
  Subgroups subgroups;               // usable subgroups (subgroups.h); empty without

  bool has_extension(const char* name) const;
};

DeviceInfo device_info(const DeviceEntry& entry);

// Every field of kiln_capabilities, struct_size included. f16 storage and
// bf16 are always there (the kernels read them through vload_half and a
// shift), timestamps too (profiling events are core OpenCL 1.2); f16
// arithmetic only with cl_khr_fp16; subgroup sizes only where the subgroup
// variants build and run (subgroups.h), else 0.
kiln_capabilities capabilities(const DeviceInfo& info);

}  // namespace kiln::backends::opencl
