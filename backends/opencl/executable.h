#pragma once

#include <CL/cl.h>

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "backends/backend.h"
#include "backends/opencl/cl_handle.h"
#include "backends/opencl/device.h"
#include "backends/opencl/state.h"
#include "backends/opencl/weights.h"
#include "kernels/opencl/kernel_table.h"
#include "program/program.h"
#include "program/step.h"

namespace kiln::backends::opencl {

// One dispatch's kernel object, its own (kernels are not shared between
// dispatches, so each keeps its arguments from step to step).
struct BoundDispatch {
  const kernels::opencl::KernelRow* row = nullptr;
  ClKernel kernel;
  uint32_t workgroup = 0;
  int64_t team = 1;  // a gemv kernel's GEMV_LANES (OpenclKernel::team), chosen at compile
  std::vector<int32_t> step_slots;  // the slot each step argument s0..s3 carries
  // The kernel's scratch (OpenclKernel::scratch): its bytes (0: none) and
  // its offset in the executable's scratch buffer.
  uint64_t scratch_bytes = 0, scratch_offset = 0;
  // This step's extents, rewritten in place every step (no allocation).
  std::vector<std::vector<int64_t>> input_shapes, output_shapes;
};

// One compiled Program: its kernels, built once, its arena (one buffer of
// arena_bytes; every arena tensor is an offset in it, passed as a kernel
// argument) and its scratch (one buffer, a range per dispatch whose kernel
// keeps scratch; absent when none does). Buffer arguments are set once,
// when every region exists (at compile for a Program without weights or
// state, else at bind); a step sets only the step arguments.
class Executable {
 public:
  Executable(Device& device, program::Program program, std::vector<BoundDispatch> dispatches, ClMem arena,
             ClMem scratch);

  // Binds the weights (every entry imported) and the state (null when the
  // Program has none) and sets every kernel's buffer arguments. Both must
  // outlive the executable.
  absl::Status bind(const Weights* weights, const State* state);

  // One step (commands.cc): the input writes, every dispatch and the output
  // reads enqueued back to back on the device's in-order queue, then one
  // wait. Blocks until the outputs are filled.
  absl::Status run(const kiln_step& step);

  // Per-dispatch GPU times since the device was created (profile on).
  absl::Status profile(kiln_profile_entry* out_entries, uint32_t capacity, uint32_t* out_count) const;

  const program::Program& program() const { return program_; }
  Device& device() { return device_; }

 private:
  absl::Status set_buffer_arguments();
  // The buffer holding |ref| and |ref|'s byte offset in it.
  absl::StatusOr<cl_mem> buffer_of(const program::TensorRef& ref, uint64_t* out_offset) const;
  absl::Status enqueue_dispatch(size_t index, const program::StepValues& values, cl_event* out_event);
  absl::Status enqueue_inputs(const kiln_step& step);
  absl::Status enqueue_outputs(const kiln_step& step);
  void collect_profile(std::vector<ClEvent>& events);

  Device& device_;
  program::Program program_;
  std::vector<BoundDispatch> dispatches_;
  ClMem arena_;
  ClMem scratch_;
  const Weights* weights_ = nullptr;
  const State* state_ = nullptr;
  bool ready_ = false;  // every kernel's buffer arguments are set
  std::vector<uint64_t> profile_runs_, profile_nanoseconds_;
};

}  // namespace kiln::backends::opencl
