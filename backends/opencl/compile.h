#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "backends/opencl/device.h"
#include "backends/opencl/executable.h"
#include "program/program.h"

namespace kiln::backends::opencl {

// Builds |program|'s kernels (each (kernel, build options) once per device,
// through the program cache) and allocates its arena. Refuses a dispatch
// whose (kernel, variant) the OpenCL kernel table lacks, naming both.
absl::StatusOr<std::unique_ptr<Executable>> compile(Device& device, program::Program program);

}  // namespace kiln::backends::opencl
