#include "backends/opencl/executable.h"

#include "absl/strings/str_cat.h"
#include "backends/opencl/cl_error.h"
#include "backends/opencl/defines.h"
#include "backends/support/kernel_table.h"
#include "backends/support/program_checks.h"

namespace kiln::backends::opencl {

Executable::Executable(Device& device, program::Program program, std::vector<BoundDispatch> dispatches, ClMem arena,
                       ClMem scratch)
    : device_(device),
      program_(std::move(program)),
      dispatches_(std::move(dispatches)),
      arena_(std::move(arena)),
      scratch_(std::move(scratch)) {
  profile_runs_.assign(dispatches_.size(), 0);
  profile_nanoseconds_.assign(dispatches_.size(), 0);
}

absl::Status Executable::bind(const Weights* weights, const State* state) {
  if (weights == nullptr && !program_.weights.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the Program has ", program_.weights.size(),
                                                   " weights: bind needs its weights"));
  }
  if (weights != nullptr) {
    if (absl::Status s = support::check_same_weights(weights->made_for(), program_); !s.ok()) return s;
    if (absl::Status s = weights->check_complete(); !s.ok()) return s;
  }
  if (state == nullptr && program_.state_bytes > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the Program has ", program_.state_bytes, " bytes of state: bind needs its state"));
  }
  if (state != nullptr) {
    if (absl::Status s = support::check_same_state(state->made_for(), program_); !s.ok()) return s;
  }
  weights_ = weights;
  state_ = state;
  ready_ = false;
  if (absl::Status s = set_buffer_arguments(); !s.ok()) return s;
  ready_ = true;
  return absl::OkStatus();
}

absl::StatusOr<cl_mem> Executable::buffer_of(const program::TensorRef& ref, uint64_t* out_offset) const {
  switch (ref.region) {
    case program::Region::arena:
      *out_offset = static_cast<uint64_t>(ref.offset);
      return arena_.get();
    case program::Region::state:
      if (state_ == nullptr) return absl::FailedPreconditionError("no state is bound");
      *out_offset = static_cast<uint64_t>(ref.offset);
      return state_->buffer();
    case program::Region::weight: {
      if (weights_ == nullptr) return absl::FailedPreconditionError("no weights are bound");
      const program::WeightEntry& entry = program_.weights[ref.weight];
      *out_offset = static_cast<uint64_t>(entry.offset + ref.offset);
      return weights_->chunk(entry.chunk);
    }
  }
  return absl::InternalError("unknown region");
}

// Arguments, in prelude.cl's order: (buffer, offset) per input, then per
// output, then s0..s3 (set per step; 0 until then), then (scratch buffer,
// offset) for a kernel that keeps scratch.
absl::Status Executable::set_buffer_arguments() {
  for (size_t i = 0; i < dispatches_.size(); ++i) {
    const program::Dispatch& d = program_.dispatches[i];
    cl_kernel kernel = dispatches_[i].kernel.get();
    cl_uint arg = 0;
    for (const std::vector<program::TensorRef>* refs : {&d.inputs, &d.outputs}) {
      for (const program::TensorRef& ref : *refs) {
        uint64_t offset = 0;
        absl::StatusOr<cl_mem> buffer = buffer_of(ref, &offset);
        if (!buffer.ok()) return buffer.status();
        const cl_mem mem = *buffer;
        const cl_ulong cl_offset = offset;
        cl_int status = clSetKernelArg(kernel, arg++, sizeof mem, &mem);
        if (status == CL_SUCCESS) status = clSetKernelArg(kernel, arg++, sizeof cl_offset, &cl_offset);
        if (absl::Status s = cl_status(status, absl::StrCat(support::dispatch_label(program_, i),
                                                             ": setting buffer argument ", arg));
            !s.ok()) {
          return s;
        }
      }
    }
    for (size_t s = 0; s < kStepArguments; ++s) {
      const cl_int zero = 0;
      const cl_int status = clSetKernelArg(kernel, arg++, sizeof zero, &zero);
      if (absl::Status e = cl_status(status, absl::StrCat(support::dispatch_label(program_, i),
                                                           ": setting step argument s", s));
          !e.ok()) {
        return e;
      }
    }
    if (dispatches_[i].row->kernel.scratch != nullptr) {
      const cl_mem mem = scratch_.get();
      const cl_ulong offset = dispatches_[i].scratch_offset;
      cl_int status = clSetKernelArg(kernel, arg++, sizeof mem, &mem);
      if (status == CL_SUCCESS) status = clSetKernelArg(kernel, arg++, sizeof offset, &offset);
      if (absl::Status s = cl_status(status, absl::StrCat(support::dispatch_label(program_, i),
                                                           ": setting the scratch argument"));
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Executable::profile(kiln_profile_entry* out_entries, uint32_t capacity, uint32_t* out_count) const {
  if (!device_.profiling()) {
    return absl::FailedPreconditionError("profiling is off: create the device with options.profile set");
  }
  if (out_count == nullptr) return absl::InvalidArgumentError("out_count is null");
  if (capacity > 0 && out_entries == nullptr) return absl::InvalidArgumentError("out_entries is null");
  *out_count = static_cast<uint32_t>(dispatches_.size());
  for (uint32_t i = 0; i < capacity && i < dispatches_.size(); ++i) {
    out_entries[i] = {i, profile_runs_[i], profile_nanoseconds_[i]};
  }
  return absl::OkStatus();
}

}  // namespace kiln::backends::opencl
