#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "backends/backend.h"
#include "backends/cpu/device.h"
#include "backends/cpu/host_buffer.h"
#include "backends/cpu/memory.h"
#include "kernels/cpu/kernel.h"
#include "program/program.h"

namespace kiln::backends::cpu {

// A dispatch bound to memory: its kernel and its operands' views, whose
// data pointers are set at compile (arena) and bind (weights, state) time
// and whose symbolic extents are set from each step's values.
struct BoundDispatch {
  size_t index = 0;  // into Program::dispatches
  kernels::cpu::KernelFn kernel = nullptr;
  std::vector<kernels::cpu::TensorView> inputs, outputs;
};

// One compiled Program on the host. Steps allocate nothing: the arena
// exists from compile on, weights and state from bind on. Calls on one
// executable, or on executables sharing a state, must not overlap.
class Executable {
 public:
  Executable(Device& device, program::Program program, std::vector<kernels::cpu::KernelFn> kernels,
             HostBuffer arena);

  const program::Program& program() const { return program_; }

  // Weights must have every entry imported; state may be null only when
  // the Program has none.
  absl::Status bind(const Weights& weights, State* state);
  absl::Status run(const kiln_step& step);

 private:
  uint8_t* base(program::Region region) const;
  void set_extents(BoundDispatch& bound) const;

  Device& device_;
  program::Program program_;
  HostBuffer arena_;
  const Weights* weights_ = nullptr;
  State* state_ = nullptr;
  std::vector<BoundDispatch> dispatches_;
  program::StepValues step_;
};

}  // namespace kiln::backends::cpu
