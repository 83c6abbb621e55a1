#pragma once

#include <CL/cl.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace kiln::backends::opencl {

// "CL_OUT_OF_RESOURCES"; "OpenCL error -9999" for a code the headers lack.
std::string cl_error_name(cl_int code);

// Ok for CL_SUCCESS; otherwise an error naming |what| was asked for and the
// code: "allocating the arena (12.0 MiB): CL_MEM_OBJECT_ALLOCATION_FAILURE".
// Out-of-memory codes map to ResourceExhausted, a missing device or
// platform to Unavailable, the rest to Internal.
absl::Status cl_status(cl_int code, std::string_view what);

// "12.0 MiB", for messages.
std::string byte_string(uint64_t bytes);

}  // namespace kiln::backends::opencl
