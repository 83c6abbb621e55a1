#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "backends/support/kernel_table.h"
#include "program/dtype.h"
#include "program/program.h"
#include "program/step.h"

namespace kiln::kernels::cpu {

// One tensor of a dispatch, resolved for this step: its bytes in the host
// arena, state or weight buffer, and its concrete shape (symbols evaluated).
struct TensorView {
  uint8_t* data = nullptr;
  program::DType dtype = program::DType::f32;
  std::vector<int64_t> shape;

  int64_t elements() const;
  int64_t dim(int64_t i) const { return shape[i < 0 ? shape.size() + i : i]; }
  // Element i converted to / from float, whatever the dtype.
  float load(int64_t i) const;
  void store(int64_t i, float value) const;
};

struct KernelArgs {
  const program::Dispatch& dispatch;
  std::span<const TensorView> inputs;
  std::span<const TensorView> outputs;
  const program::StepValues& step;  // this run's value of every step slot

  // A kernel parameter's value at this step: its step slot's value, or the
  // constant of that name.
  int64_t param(std::string_view name) const;
};

// A reference kernel: plain, obviously correct code. Accumulates in f32, or
// in f64 where a reduction needs it to stay the reference. Errors name the
// dispatch's node.
using KernelFn = absl::Status (*)(const KernelArgs& args);

// Every (op, variant) the cpu plugin runs, one row each (kernel_table.cc).
std::span<const backends::support::KernelRow<KernelFn>> kernel_table();

}  // namespace kiln::kernels::cpu
