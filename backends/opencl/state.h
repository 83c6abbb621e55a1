#pragma once

#include <CL/cl.h>

#include <memory>

#include "absl/status/statusor.h"
#include "backends/opencl/cl_handle.h"
#include "backends/opencl/device.h"
#include "program/program.h"

namespace kiln::backends::opencl {

// A Program's state region (the KV cache) on the device: one zero-filled
// buffer of state_bytes, bound by every executable whose Program has the
// same state table; it keeps its contents between steps.
class State {
 public:
  static absl::StatusOr<std::unique_ptr<State>> create(Device& device, const program::Program& program);

  // Copies bytes [offset, offset + bytes) out. Blocks.
  absl::Status read(uint64_t offset, void* out_data, uint64_t bytes);

  const program::Program& made_for() const { return made_for_; }
  cl_mem buffer() const { return buffer_.get(); }

 private:
  State(Device& device, program::Program made_for) : device_(device), made_for_(std::move(made_for)) {}

  Device& device_;
  program::Program made_for_;
  ClMem buffer_;  // null when the Program declares no state
};

}  // namespace kiln::backends::opencl
