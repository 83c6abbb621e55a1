#pragma once

#include <CL/cl.h>

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/opencl/cl_handle.h"
#include "backends/opencl/device_list.h"
#include "backends/opencl/pipeline_cache.h"

namespace kiln::backends::opencl {

// One opened OpenCL device: its context, the one in-order queue every
// executable records into, the program cache and the counters. Objects made
// on it (executables, weights, state) hold a reference and must be
// destroyed before it.
class Device {
 public:
  static absl::StatusOr<std::unique_ptr<Device>> open(const DeviceEntry& entry, const kiln_device_options& options);

  cl_context context() const { return context_.get(); }
  cl_device_id id() const { return entry_.device; }
  cl_command_queue queue() const { return queue_.get(); }
  const DeviceInfo& info() const { return info_; }
  bool profiling() const { return profiling_; }
  ProgramCache& programs() { return *programs_; }
  kiln_counters& counters() { return counters_; }

  // clFinish on the queue, after polling a GPU's completion for a while
  // (device.cc says why).
  cl_int finish();

  // A device buffer of |bytes| (> 0) for |what| ("the arena", "weight chunk
  // 2"), counted as an allocation. Refused, naming both sizes, when larger
  // than CL_DEVICE_MAX_MEM_ALLOC_SIZE.
  absl::StatusOr<ClMem> create_buffer(uint64_t bytes, std::string_view what);

 private:
  Device(const DeviceEntry& entry, DeviceInfo info) : entry_(entry), info_(std::move(info)) {}

  DeviceEntry entry_;
  DeviceInfo info_;
  bool profiling_ = false;
  ClContext context_;
  ClQueue queue_;
  std::unique_ptr<ProgramCache> programs_;
  kiln_counters counters_{};
};

}  // namespace kiln::backends::opencl
