#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "backends/backend.h"
#include "backends/cpu/host_buffer.h"
#include "ir/shape.h"
#include "kernels/cpu/kernel.h"
#include "passes/program.h"

namespace kiln::backends::cpu {

// The weight buffers of one Program: one per weight table entry, shared by
// every executable compiled with share_with (a model's prefill and decode
// Programs).
struct WeightBuffers {
  std::vector<HostBuffer> buffers;
  std::vector<bool> uploaded;
};

// A dispatch bound to memory. The views' data pointers are fixed at compile
// time; their symbolic dims are set from each run's step values.
struct BoundDispatch {
  size_t index = 0;  // into Program::dispatches
  kernels::cpu::KernelFn kernel = nullptr;
  std::vector<kernels::cpu::TensorView> inputs, outputs;
};

// What compile builds an executable from.
struct ExecutableParts {
  passes::Program program;
  std::vector<BoundDispatch> dispatches;
  HostBuffer arena;
  std::shared_ptr<HostBuffer> state;  // shared with share_with's executable, if any
  std::shared_ptr<WeightBuffers> weights;
  uint64_t allocations = 0;  // buffers compile allocated (not the shared ones)
};

// One compiled Program on the host. Runs allocate no buffers: the arena,
// state and weights exist from compile on. Calls on one executable, or on
// executables sharing state, must not overlap; separate executables may run
// on separate threads.
class Executable {
 public:
  explicit Executable(ExecutableParts parts);

  // |bytes| must equal the weight's size in the Program's table.
  absl::Status upload_weight(uint32_t index, const void* data, uint64_t bytes);
  // |region| is KILN_REGION_ARENA or KILN_REGION_STATE; the byte range must
  // lie inside it.
  absl::Status write(int32_t region, uint64_t offset, const void* data, uint64_t bytes);
  absl::Status read(int32_t region, uint64_t offset, void* out_data, uint64_t bytes);
  // Every symbol of the Program given once, within [0, its bound], and no
  // other; every weight uploaded. Runs the dispatches in order and stops at
  // the first kernel error.
  absl::Status run(std::span<const kiln_uniform> uniforms);
  kiln_counters counters() const { return counters_; }

  const passes::Program& program() const { return program_; }
  const std::shared_ptr<HostBuffer>& state() const { return state_; }
  const std::shared_ptr<WeightBuffers>& weights() const { return weights_; }

 private:
  absl::Status set_step(std::span<const kiln_uniform> uniforms);
  absl::Status check_weights_uploaded() const;
  void evaluate_shapes(BoundDispatch& bound) const;
  absl::StatusOr<HostBuffer*> region(int32_t region, const char* verb, uint64_t offset, uint64_t bytes);

  passes::Program program_;
  std::vector<BoundDispatch> dispatches_;
  HostBuffer arena_;
  std::shared_ptr<HostBuffer> state_;
  std::shared_ptr<WeightBuffers> weights_;
  ir::SymbolValues step_;  // this run's values; holds every Program symbol
  kiln_counters counters_{};
};

}  // namespace kiln::backends::cpu
