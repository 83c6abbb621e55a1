#include "backends/opencl/device.h"

#include "absl/strings/str_cat.h"
#include "backends/opencl/cl_error.h"
#include "backends/support/poll.h"

namespace kiln::backends::opencl {

absl::StatusOr<std::unique_ptr<Device>> Device::open(const DeviceEntry& entry, const kiln_device_options& options) {
  std::unique_ptr<Device> device(new Device(entry, device_info(entry)));
  const std::string label = absl::StrCat("OpenCL device '", device->info_.name, "'");
  const cl_context_properties properties[] = {CL_CONTEXT_PLATFORM,
                                              reinterpret_cast<cl_context_properties>(entry.platform), 0};
  cl_int status = CL_SUCCESS;
  device->context_ = ClContext(clCreateContext(properties, 1, &entry.device, nullptr, nullptr, &status));
  if (absl::Status s = cl_status(status, absl::StrCat("creating a context on ", label)); !s.ok()) return s;
  device->profiling_ = options.profile != 0;
  const cl_command_queue_properties queue_properties = device->profiling_ ? CL_QUEUE_PROFILING_ENABLE : 0;
  device->queue_ = ClQueue(clCreateCommandQueue(device->context(), entry.device, queue_properties, &status));
  if (absl::Status s = cl_status(status, absl::StrCat("creating a command queue on ", label)); !s.ok()) return s;
  const DeviceInfo& info = device->info_;
  std::string device_key = absl::StrCat(info.platform, " | ", info.name, " | ", info.version, " | driver ",
                                        info.driver_version);
  device->counters_.struct_size = sizeof(kiln_counters);
  device->programs_ = std::make_unique<ProgramCache>(device->context(), entry.device, std::move(device_key),
                                                     options.cache_dir == nullptr ? "" : options.cache_dir,
                                                     &device->counters_.builds);
  return device;
}

cl_int Device::finish() {
  // A GPU step is polled through a marker's event before clFinish
  // (support::poll_step says why); PoCL blocks at once.
  if ((info_.type & CL_DEVICE_TYPE_CPU) == 0) {
    cl_event marker = nullptr;
    cl_int status = clEnqueueMarkerWithWaitList(queue(), 0, nullptr, &marker);
    if (status == CL_SUCCESS) status = clFlush(queue());
    if (status == CL_SUCCESS) {
      const ClEvent event(marker);
      support::poll_step([&] {
        cl_int execution = CL_QUEUED;
        status = clGetEventInfo(marker, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof execution, &execution, nullptr);
        return status != CL_SUCCESS || execution <= CL_COMPLETE;
      });
    } else if (marker != nullptr) {
      clReleaseEvent(marker);
    }
    // Always waited for: nothing enqueued may outlive the step's memory.
    const cl_int finished = clFinish(queue());
    return status != CL_SUCCESS ? status : finished;
  }
  return clFinish(queue());
}

absl::StatusOr<ClMem> Device::create_buffer(uint64_t bytes, std::string_view what) {
  if (bytes > info_.max_alloc_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        std::string(what), " needs ", byte_string(bytes), " (", bytes, " bytes), more than the largest buffer '",
        info_.name, "' allows (CL_DEVICE_MAX_MEM_ALLOC_SIZE ", byte_string(info_.max_alloc_bytes), ")"));
  }
  cl_int status = CL_SUCCESS;
  ClMem buffer(clCreateBuffer(context(), CL_MEM_READ_WRITE, bytes, nullptr, &status));
  if (absl::Status s = cl_status(status, absl::StrCat("allocating ", std::string(what), " (", byte_string(bytes),
                                                      ") on '", info_.name, "'"));
      !s.ok()) {
    return s;
  }
  ++counters_.allocations;
  return buffer;
}

}  // namespace kiln::backends::opencl
