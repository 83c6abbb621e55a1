#pragma once

#include <CL/cl.h>

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/opencl/cl_handle.h"
#include "backends/opencl/device.h"
#include "program/program.h"

namespace kiln::backends::opencl {

// A Program's weight region on the device: one buffer per weight chunk
// (each within CL_DEVICE_MAX_MEM_ALLOC_SIZE), every weight at its planned
// offset in its chunk. Bound by every executable whose Program has the same
// weight table.
class Weights {
 public:
  static absl::StatusOr<std::unique_ptr<Weights>> create(Device& device, const program::Program& program);

  // Copies weight |index|'s bytes to its place, in pieces of at most
  // kUploadPieceBytes written straight from |data| (the caller's mapped
  // file): the host never holds a second copy of the model. Blocks.
  absl::Status import(uint32_t index, const void* data, uint64_t bytes);

  // Ok when every weight has been imported; else names the first missing.
  absl::Status check_complete() const;

  const program::Program& made_for() const { return made_for_; }
  cl_mem chunk(int32_t index) const { return chunks_[index].get(); }

  // The bound on one host-to-device write of weight bytes.
  static constexpr uint64_t kUploadPieceBytes = uint64_t{64} << 20;

 private:
  Weights(Device& device, program::Program made_for) : device_(device), made_for_(std::move(made_for)) {}

  Device& device_;
  program::Program made_for_;
  std::vector<ClMem> chunks_;
  std::vector<bool> imported_;
};

}  // namespace kiln::backends::opencl
