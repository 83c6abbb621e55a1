// Executable::run: what one step enqueues on the device's in-order queue,
// back to back, with one wait at the end: the input writes (non-blocking,
// read from the caller's memory before run returns), every dispatch (its step
// arguments set, its group count from this step's extents), the output
// reads (non-blocking, into the caller's memory). The queue orders them, so
// the Program's hazard lists need no barrier here. Nothing is allocated.

#include "absl/strings/str_cat.h"
#include "backends/opencl/cl_error.h"
#include "backends/opencl/executable.h"
#include "backends/support/kernel_table.h"
#include "backends/support/program_checks.h"

namespace kiln::backends::opencl {
namespace {

void evaluate(const std::vector<program::TensorRef>& refs, const program::StepValues& values,
              std::vector<std::vector<int64_t>>& out_shapes) {
  for (size_t i = 0; i < refs.size(); ++i) {
    const program::Shape& shape = refs[i].shape;
    out_shapes[i].resize(shape.size());
    for (size_t d = 0; d < shape.size(); ++d) out_shapes[i][d] = program::extent(shape[d], values);
  }
}

}  // namespace

absl::Status Executable::enqueue_inputs(const kiln_step& step) {
  for (uint32_t i = 0; i < step.input_count; ++i) {
    const kiln_input& input = step.inputs[i];
    if (input.bytes == 0) continue;
    const program::Binding& binding = program_.inputs[input.binding];
    uint64_t offset = 0;
    absl::StatusOr<cl_mem> buffer = buffer_of(binding.ref, &offset);
    if (!buffer.ok()) return buffer.status();
    const cl_int status = clEnqueueWriteBuffer(device_.queue(), *buffer, CL_FALSE, offset + input.offset,
                                               input.bytes, input.data, 0, nullptr, nullptr);
    if (absl::Status s = cl_status(status, absl::StrCat("writing input '", binding.name, "' (", input.bytes,
                                                         " bytes)"));
        !s.ok()) {
      return s;
    }
    device_.counters().bytes_to_device += input.bytes;
  }
  return absl::OkStatus();
}

absl::Status Executable::enqueue_dispatch(size_t index, const program::StepValues& values, cl_event* out_event) {
  BoundDispatch& bound = dispatches_[index];
  const program::Dispatch& d = program_.dispatches[index];
  cl_kernel kernel = bound.kernel.get();
  const auto first_step_arg = static_cast<cl_uint>(2 * (d.inputs.size() + d.outputs.size()));
  for (size_t s = 0; s < bound.step_slots.size(); ++s) {
    const cl_int value = static_cast<cl_int>(values[bound.step_slots[s]]);
    const cl_int status = clSetKernelArg(kernel, first_step_arg + static_cast<cl_uint>(s), sizeof value, &value);
    if (absl::Status e = cl_status(status, absl::StrCat(support::dispatch_label(program_, index),
                                                         ": setting step argument s", s));
        !e.ok()) {
      return e;
    }
  }
  evaluate(d.inputs, values, bound.input_shapes);
  evaluate(d.outputs, values, bound.output_shapes);
  const kernels::opencl::StepShapes shapes{d, bound.input_shapes, bound.output_shapes, bound.team};
  const int64_t groups = bound.row->kernel.groups(shapes, bound.workgroup);
  if (groups <= 0) return absl::OkStatus();  // nothing to compute at this step (T = 0)
  const size_t local = bound.workgroup;
  const size_t global = static_cast<size_t>(groups) * local;
  const cl_int status =
      clEnqueueNDRangeKernel(device_.queue(), kernel, 1, nullptr, &global, &local, 0, nullptr, out_event);
  if (absl::Status e = cl_status(status, absl::StrCat(support::dispatch_label(program_, index), ": launching ",
                                                       groups, " work-groups of ", local));
      !e.ok()) {
    return e;
  }
  ++device_.counters().dispatches;
  return absl::OkStatus();
}

absl::Status Executable::enqueue_outputs(const kiln_step& step) {
  for (uint32_t i = 0; i < step.output_count; ++i) {
    const kiln_output& output = step.outputs[i];
    if (output.bytes == 0) continue;
    const program::Binding& binding = program_.outputs[output.binding];
    uint64_t offset = 0;
    absl::StatusOr<cl_mem> buffer = buffer_of(binding.ref, &offset);
    if (!buffer.ok()) return buffer.status();
    const cl_int status = clEnqueueReadBuffer(device_.queue(), *buffer, CL_FALSE, offset + output.offset,
                                              output.bytes, output.data, 0, nullptr, nullptr);
    if (absl::Status s = cl_status(status, absl::StrCat("reading output '", binding.name, "' (", output.bytes,
                                                         " bytes)"));
        !s.ok()) {
      return s;
    }
    device_.counters().bytes_from_device += output.bytes;
  }
  return absl::OkStatus();
}

absl::Status Executable::run(const kiln_step& step) {
  absl::StatusOr<program::StepValues> values = support::check_step(program_, &step);
  if (!values.ok()) return values.status();
  if (!ready_) return absl::FailedPreconditionError("run before bind: bind the weights and state first");
  kiln_counters& counters = device_.counters();
  ++counters.steps;
  absl::Status status = enqueue_inputs(step);
  std::vector<ClEvent> events;
  if (device_.profiling()) events.resize(dispatches_.size());
  for (size_t i = 0; i < dispatches_.size() && status.ok(); ++i) {
    cl_event event = nullptr;
    status = enqueue_dispatch(i, *values, device_.profiling() ? &event : nullptr);
    if (event != nullptr) events[i] = ClEvent(event);
  }
  if (status.ok()) status = enqueue_outputs(step);
  // One wait, also after a failed enqueue: nothing enqueued may still read
  // the caller's memory when run returns.
  const cl_int finished = device_.finish();
  ++counters.submits;
  if (!status.ok()) return status;
  if (absl::Status s = cl_status(finished, "waiting for the step"); !s.ok()) return s;
  if (step.output_count > 0) ++counters.readbacks;
  if (device_.profiling()) collect_profile(events);
  return absl::OkStatus();
}

void Executable::collect_profile(std::vector<ClEvent>& events) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (!events[i]) continue;
    cl_ulong start = 0, end = 0;
    if (clGetEventProfilingInfo(events[i].get(), CL_PROFILING_COMMAND_START, sizeof start, &start, nullptr) !=
            CL_SUCCESS ||
        clGetEventProfilingInfo(events[i].get(), CL_PROFILING_COMMAND_END, sizeof end, &end, nullptr) != CL_SUCCESS) {
      continue;
    }
    ++profile_runs_[i];
    profile_nanoseconds_[i] += end > start ? end - start : 0;
  }
}

}  // namespace kiln::backends::opencl
