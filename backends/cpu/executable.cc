#include "backends/cpu/executable.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "backends/support/kernel_table.h"
#include "backends/support/program_checks.h"
#include "kernels/cpu/thread_pool.h"

namespace kiln::backends::cpu {

Executable::Executable(Device& device, program::Program program, std::vector<kernels::cpu::KernelFn> kernels,
                       HostBuffer arena)
    : device_(device), program_(std::move(program)), arena_(std::move(arena)) {
  for (size_t i = 0; i < program_.dispatches.size(); ++i) {
    const program::Dispatch& dispatch = program_.dispatches[i];
    BoundDispatch bound{i, kernels[i], {}, {}};
    for (const program::TensorRef& ref : dispatch.inputs) bound.inputs.push_back({nullptr, ref.dtype, {}});
    for (const program::TensorRef& ref : dispatch.outputs) bound.outputs.push_back({nullptr, ref.dtype, {}});
    dispatches_.push_back(std::move(bound));
  }
}

uint8_t* Executable::base(program::Region region) const {
  switch (region) {
    case program::Region::arena: return arena_.data();
    case program::Region::state: return state_ != nullptr ? state_->buffer.data() : nullptr;
    case program::Region::weight: return nullptr;
  }
  return nullptr;
}

absl::Status Executable::bind(const Weights& weights, State* state) {
  if (absl::Status s = support::check_same_weights(weights.made_for, program_); !s.ok()) return s;
  for (size_t i = 0; i < weights.data.size(); ++i) {
    if (weights.data[i] == nullptr && program_.weights[i].bytes > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("weight ", i, " ('", program_.weights[i].name, "') has not been imported"));
    }
  }
  if (state == nullptr && program_.state_bytes > 0) {
    return absl::InvalidArgumentError("this Program has a state, and none was given");
  }
  if (state != nullptr) {
    if (absl::Status s = support::check_same_state(state->made_for, program_); !s.ok()) return s;
  }
  weights_ = &weights;
  state_ = state;
  const auto resolve = [&](const program::TensorRef& ref) -> uint8_t* {
    if (ref.region == program::Region::weight) return const_cast<uint8_t*>(weights.data[ref.weight]);
    uint8_t* region = base(ref.region);
    return region == nullptr ? nullptr : region + ref.offset;
  };
  for (BoundDispatch& bound : dispatches_) {
    const program::Dispatch& dispatch = program_.dispatches[bound.index];
    for (size_t i = 0; i < dispatch.inputs.size(); ++i) bound.inputs[i].data = resolve(dispatch.inputs[i]);
    for (size_t i = 0; i < dispatch.outputs.size(); ++i) bound.outputs[i].data = resolve(dispatch.outputs[i]);
  }
  return absl::OkStatus();
}

void Executable::set_extents(BoundDispatch& bound) const {
  const program::Dispatch& dispatch = program_.dispatches[bound.index];
  const auto evaluate = [&](const std::vector<program::TensorRef>& refs, std::vector<kernels::cpu::TensorView>& views) {
    for (size_t i = 0; i < refs.size(); ++i) {
      views[i].shape.clear();
      for (const program::Dim& dim : refs[i].shape) views[i].shape.push_back(program::extent(dim, step_));
    }
  };
  evaluate(dispatch.inputs, bound.inputs);
  evaluate(dispatch.outputs, bound.outputs);
}

absl::Status Executable::run(const kiln_step& step) {
  if (weights_ == nullptr) return absl::FailedPreconditionError("run before bind: no weights are bound");
  absl::StatusOr<program::StepValues> values = support::check_step(program_, &step);
  if (!values.ok()) return values.status();
  step_ = *std::move(values);
  ++device_.counters.steps;
  ++device_.counters.submits;
  for (uint32_t i = 0; i < step.input_count; ++i) {
    const kiln_input& input = step.inputs[i];
    if (input.bytes == 0) continue;
    std::memcpy(base(program::Region::arena) + program_.inputs[input.binding].ref.offset + input.offset, input.data,
                input.bytes);
    device_.counters.bytes_to_device += input.bytes;
  }
  const kernels::cpu::ScopedPool pool(device_.pool.get());
  for (BoundDispatch& bound : dispatches_) {
    set_extents(bound);
    const kernels::cpu::KernelArgs args{program_.dispatches[bound.index], bound.inputs, bound.outputs, step_};
    if (absl::Status s = bound.kernel(args); !s.ok()) return s;
    ++device_.counters.dispatches;
  }
  for (uint32_t i = 0; i < step.output_count; ++i) {
    const kiln_output& output = step.outputs[i];
    const program::TensorRef& ref = program_.outputs[output.binding].ref;
    if (output.bytes > 0) std::memcpy(output.data, base(ref.region) + ref.offset + output.offset, output.bytes);
    device_.counters.bytes_from_device += output.bytes;
  }
  if (step.output_count > 0) ++device_.counters.readbacks;
  return absl::OkStatus();
}

}  // namespace kiln::backends::cpu
