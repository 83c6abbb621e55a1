#include "backends/cpu/compile.h"

#include <algorithm>

#include "backends/support/kernel_table.h"
#include "backends/support/program_checks.h"
#include "kernels/cpu/kernel.h"

namespace kiln::backends::cpu {
namespace {

// Cache lines, at least: the Program's alignment is relative to each
// region's start, and a 64-byte base keeps vector loads aligned too.
constexpr int64_t kMinAlignment = 64;

int64_t alignment_of(const program::Program& program) { return std::max(kMinAlignment, program.alignment); }

}  // namespace

absl::StatusOr<std::unique_ptr<Executable>> compile(Device& device, const char* program_json, size_t length) {
  absl::StatusOr<program::Program> program = support::read_program(program_json, length);
  if (!program.ok()) return program.status();
  std::vector<kernels::cpu::KernelFn> kernels;
  for (size_t i = 0; i < program->dispatches.size(); ++i) {
    const program::Dispatch& d = program->dispatches[i];
    const auto* row = support::find_kernel(kernels::cpu::kernel_table(), d.kernel, d.variant);
    if (row == nullptr) return support::missing_kernel(*program, i, "cpu");
    kernels.push_back(row->kernel);
  }
  absl::StatusOr<HostBuffer> arena = HostBuffer::allocate("arena", program->arena_bytes, alignment_of(*program));
  if (!arena.ok()) return arena.status();
  device.counters.allocations += program->arena_bytes > 0;
  return std::make_unique<Executable>(device, *std::move(program), std::move(kernels), *std::move(arena));
}

std::unique_ptr<Weights> make_weights(const Executable& executable) {
  auto weights = std::make_unique<Weights>();
  weights->made_for = executable.program();
  weights->data.assign(weights->made_for.weights.size(), nullptr);
  return weights;
}

absl::StatusOr<std::unique_ptr<State>> make_state(Device& device, const Executable& executable) {
  const program::Program& program = executable.program();
  absl::StatusOr<HostBuffer> buffer = HostBuffer::allocate("state", program.state_bytes, alignment_of(program));
  if (!buffer.ok()) return buffer.status();
  device.counters.allocations += program.state_bytes > 0;
  return std::make_unique<State>(State{program, *std::move(buffer)});
}

}  // namespace kiln::backends::cpu
