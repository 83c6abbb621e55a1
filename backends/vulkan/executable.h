#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/vulkan/device.h"
#include "backends/vulkan/resources.h"
#include "program/program.h"

namespace kiln::backends::vulkan {

// One dispatch as recorded: its pipeline, its grid (sized for the step
// slots' bounds), and whether a barrier must precede it.
struct DispatchPlan {
  VkPipeline pipeline = VK_NULL_HANDLE;
  uint32_t groups_x = 0;
  uint32_t groups_y = 0;
  bool barrier_before = false;
  uint64_t scratch_bytes = 0;   // the kernel's scratch (Kernel::scratch)
  uint64_t scratch_offset = 0;  // of it in the executable's scratch buffer
};

}  // namespace kiln::backends::vulkan

// One compiled Program: its pipelines, its arena, the step-values buffer,
// the host-visible buffers for its inputs and outputs, and the command
// buffer that runs a whole step, recorded once at bind and replayed by
// every run (docs/vulkan.md, "Recording and replay").
struct kiln_executable {
  kiln_device* device = nullptr;
  kiln::program::Program program;
  std::vector<kiln::backends::vulkan::DispatchPlan> plans;
  kiln_device::Buffer arena;
  kiln_device::Buffer steps;    // one uint32 per Program slot
  kiln_device::Buffer inputs;   // every input binding at its bound size, back to back
  kiln_device::Buffer outputs;  // likewise for outputs
  kiln_device::Buffer scratch;  // every dispatch's scratch, zero-filled at compile; absent when none needs one
  std::vector<uint64_t> input_offsets;   // of each input binding within `inputs`
  std::vector<uint64_t> output_offsets;
  kiln_weights* weights = nullptr;
  kiln_state* state = nullptr;
  VkCommandBuffer commands = VK_NULL_HANDLE;  // recorded at bind; null until then
  VkQueryPool queries = VK_NULL_HANDLE;       // two timestamps per dispatch when profiling
  std::vector<kiln_profile_entry> profile;

  ~kiln_executable();
};

namespace kiln::backends::vulkan {

// compile: checks that the plugin has every (kernel, variant), builds the
// pipelines and allocates the buffers. Blocks.
absl::StatusOr<std::unique_ptr<kiln_executable>> compile_program(kiln_device* device, program::Program program);

// Records the step's command buffer for the bound weights and state
// (commands.cc). Blocks.
absl::Status record_commands(kiln_executable& executable);

// run: writes the step values and inputs, replays the command buffer (one
// submission), reads the outputs. Blocks.
absl::Status run_step(kiln_executable& executable, const kiln_step* step);

absl::Status read_profile(kiln_executable& executable, kiln_profile_entry* out, uint32_t capacity,
                          uint32_t* out_count);

}  // namespace kiln::backends::vulkan
