#pragma once

#include <CL/cl.h>

#include <cstdint>
#include <string>

namespace kiln::backends::opencl {

// Whether a device's subgroups can run kernels/opencl's subgroup variants,
// and at what size. Empty (cl_std "", sizes 0) unless all of these hold:
// the device lists cl_khr_subgroups or cl_intel_subgroups, or is OpenCL
// 2.1+ with CL_DEVICE_MAX_NUM_SUB_GROUPS > 0 (NVIDIA's OpenCL and PoCL 3
// have none of them); a probe kernel calling sub_group_reduce_add builds as
// OpenCL C |cl_std|; and the driver reports its subgroup size for a
// 256-wide work-group (cl_intel_subgroups: every size the device offers).
struct Subgroups {
  std::string cl_std;  // "CL3.0", "CL2.0" or "CL1.2" (cl_intel_subgroups)
  uint32_t size_min = 0;
  uint32_t size_max = 0;
};

// Probes once per device and process (the probe builds a program, so a
// device that advertises subgroups costs one build the first time); a device
// that advertises none costs only its info queries. Thread-safe.
Subgroups device_subgroups(cl_platform_id platform, cl_device_id device);

}  // namespace kiln::backends::opencl
