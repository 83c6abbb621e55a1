#include "backends/opencl/cl_error.h"

#include <CL/cl_ext.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kiln::backends::opencl {

std::string cl_error_name(cl_int code) {
  switch (code) {
#define KILN_CL_CODE(name) \
  case name: return #name;
    KILN_CL_CODE(CL_DEVICE_NOT_FOUND)
    KILN_CL_CODE(CL_DEVICE_NOT_AVAILABLE)
    KILN_CL_CODE(CL_COMPILER_NOT_AVAILABLE)
    KILN_CL_CODE(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    KILN_CL_CODE(CL_OUT_OF_RESOURCES)
    KILN_CL_CODE(CL_OUT_OF_HOST_MEMORY)
    KILN_CL_CODE(CL_PROFILING_INFO_NOT_AVAILABLE)
    KILN_CL_CODE(CL_BUILD_PROGRAM_FAILURE)
    KILN_CL_CODE(CL_INVALID_VALUE)
    KILN_CL_CODE(CL_INVALID_PLATFORM)
    KILN_CL_CODE(CL_INVALID_DEVICE)
    KILN_CL_CODE(CL_INVALID_CONTEXT)
    KILN_CL_CODE(CL_INVALID_COMMAND_QUEUE)
    KILN_CL_CODE(CL_INVALID_MEM_OBJECT)
    KILN_CL_CODE(CL_INVALID_BINARY)
    KILN_CL_CODE(CL_INVALID_BUILD_OPTIONS)
    KILN_CL_CODE(CL_INVALID_PROGRAM)
    KILN_CL_CODE(CL_INVALID_PROGRAM_EXECUTABLE)
    KILN_CL_CODE(CL_INVALID_KERNEL_NAME)
    KILN_CL_CODE(CL_INVALID_KERNEL)
    KILN_CL_CODE(CL_INVALID_ARG_INDEX)
    KILN_CL_CODE(CL_INVALID_ARG_VALUE)
    KILN_CL_CODE(CL_INVALID_ARG_SIZE)
    KILN_CL_CODE(CL_INVALID_KERNEL_ARGS)
    KILN_CL_CODE(CL_INVALID_WORK_DIMENSION)
    KILN_CL_CODE(CL_INVALID_WORK_GROUP_SIZE)
    KILN_CL_CODE(CL_INVALID_WORK_ITEM_SIZE)
    KILN_CL_CODE(CL_INVALID_GLOBAL_OFFSET)
    KILN_CL_CODE(CL_INVALID_EVENT)
    KILN_CL_CODE(CL_INVALID_OPERATION)
    KILN_CL_CODE(CL_INVALID_BUFFER_SIZE)
    KILN_CL_CODE(CL_INVALID_GLOBAL_WORK_SIZE)
    KILN_CL_CODE(CL_INVALID_PROPERTY)
    KILN_CL_CODE(CL_PLATFORM_NOT_FOUND_KHR)
#undef KILN_CL_CODE
    default: return absl::StrCat("OpenCL error ", code);
  }
}

absl::Status cl_status(cl_int code, std::string_view what) {
  if (code == CL_SUCCESS) return absl::OkStatus();
  const std::string message = absl::StrCat(std::string(what), ": ", cl_error_name(code));
  switch (code) {
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
    case CL_OUT_OF_RESOURCES:
    case CL_OUT_OF_HOST_MEMORY:
      return absl::ResourceExhaustedError(message);
    case CL_DEVICE_NOT_FOUND:
    case CL_DEVICE_NOT_AVAILABLE:
    case CL_COMPILER_NOT_AVAILABLE:
    case CL_PLATFORM_NOT_FOUND_KHR:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

std::string byte_string(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " bytes");
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, units[unit]);
}

}  // namespace kiln::backends::opencl
