#include "backends/opencl/state.h"

#include "absl/strings/str_cat.h"
#include "backends/opencl/cl_error.h"
#include "backends/support/program_checks.h"

namespace kiln::backends::opencl {

absl::StatusOr<std::unique_ptr<State>> State::create(Device& device, const program::Program& program) {
  std::unique_ptr<State> state(new State(device, program));
  const auto bytes = static_cast<uint64_t>(program.state_bytes);
  if (bytes == 0) return state;
  absl::StatusOr<ClMem> buffer = device.create_buffer(bytes, "the state (KV cache)");
  if (!buffer.ok()) return buffer.status();
  state->buffer_ = *std::move(buffer);
  const cl_uchar zero = 0;
  cl_int status = clEnqueueFillBuffer(device.queue(), state->buffer(), &zero, sizeof zero, 0, bytes, 0, nullptr,
                                      nullptr);
  if (status == CL_SUCCESS) status = clFinish(device.queue());
  if (absl::Status s = cl_status(status, absl::StrCat("zero-filling the state (", byte_string(bytes), ")")); !s.ok()) {
    return s;
  }
  return state;
}

absl::Status State::read(uint64_t offset, void* out_data, uint64_t bytes) {
  if (absl::Status s = support::check_state_range(made_for_, offset, bytes); !s.ok()) return s;
  if (bytes == 0) return absl::OkStatus();
  if (out_data == nullptr) return absl::InvalidArgumentError("out_data is null");
  const cl_int status = clEnqueueReadBuffer(device_.queue(), buffer(), CL_TRUE, static_cast<size_t>(offset),
                                            static_cast<size_t>(bytes), out_data, 0, nullptr, nullptr);
  if (absl::Status s = cl_status(status, absl::StrCat("reading state bytes [", offset, ", ", offset + bytes, ")"));
      !s.ok()) {
    return s;
  }
  device_.counters().bytes_from_device += bytes;
  return absl::OkStatus();
}

}  // namespace kiln::backends::opencl
