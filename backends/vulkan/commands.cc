// Records one step of an executable into a command buffer, once; every run
// replays it (docs/vulkan.md, "Recording and replay"):
//   reset the timestamps (profiling)
//   barrier: everything earlier (the previous step, another executable's
//            writes to the shared state) before this step's copies and dispatches
//   copy each input binding, at its bound size, host buffer -> arena
//   barrier: transfer -> compute
//   per dispatch: [barrier, when its `after` list needs one] bind pipeline,
//            push the operand addresses, [timestamp] dispatch [timestamp]
//   barrier: compute -> transfer; copy each output binding arena -> host
//   barrier: transfer -> host
#include "absl/strings/str_cat.h"
#include "backends/vulkan/executable.h"
#include "backends/vulkan/vk_status.h"

namespace kiln::backends::vulkan {
namespace {

void barrier(VkCommandBuffer commands, VkPipelineStageFlags from, VkAccessFlags from_access,
             VkPipelineStageFlags to, VkAccessFlags to_access) {
  VkMemoryBarrier memory{};
  memory.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  memory.srcAccessMask = from_access;
  memory.dstAccessMask = to_access;
  vkCmdPipelineBarrier(commands, from, to, 0, 1, &memory, 0, nullptr, 0, nullptr);
}

// The device address of |ref| under the executable's buffers.
absl::StatusOr<VkDeviceAddress> address_of(const kiln_executable& e, const program::TensorRef& ref) {
  switch (ref.region) {
    case program::Region::arena:
      return e.arena.address + ref.offset;
    case program::Region::state:
      if (e.state == nullptr) return absl::FailedPreconditionError("the Program reads its state, but none is bound");
      return e.state->buffer.address + ref.offset;
    case program::Region::weight: {
      if (e.weights == nullptr) return absl::FailedPreconditionError("the Program reads weights, but none are bound");
      const program::WeightEntry& entry = e.program.weights[ref.weight];
      return e.weights->chunks[entry.chunk].address + entry.offset + ref.offset;
    }
  }
  return absl::InternalError("unknown region");
}

absl::Status record_dispatches(kiln_executable& e, VkCommandBuffer commands) {
  const program::Program& p = e.program;
  for (size_t i = 0; i < p.dispatches.size(); ++i) {
    const DispatchPlan& plan = e.plans[i];
    const program::Dispatch& dispatch = p.dispatches[i];
    if (plan.barrier_before) {
      barrier(commands, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT,
              VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    }
    PushConstants push{};
    push.steps = e.steps.address;
    push.scratch = plan.scratch_bytes > 0 ? e.scratch.address + plan.scratch_offset : 0;
    size_t operand = 0;
    for (const auto* refs : {&dispatch.inputs, &dispatch.outputs}) {
      for (const program::TensorRef& ref : *refs) {
        absl::StatusOr<VkDeviceAddress> address = address_of(e, ref);
        if (!address.ok()) return address.status();
        push.operands[operand++] = *address;
      }
    }
    const uint32_t query = static_cast<uint32_t>(2 * i);
    vkCmdBindPipeline(commands, VK_PIPELINE_BIND_POINT_COMPUTE, plan.pipeline);
    vkCmdPushConstants(commands, e.device->pipeline_layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof push, &push);
    if (e.queries != VK_NULL_HANDLE) {
      vkCmdWriteTimestamp(commands, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, e.queries, query);
    }
    if (plan.groups_x > 0) vkCmdDispatch(commands, plan.groups_x, plan.groups_y, 1);
    if (e.queries != VK_NULL_HANDLE) {
      vkCmdWriteTimestamp(commands, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, e.queries, query + 1);
    }
  }
  return absl::OkStatus();
}

// Copies between the arena and a host buffer, one region per binding.
void record_copies(const kiln_executable& e, const std::vector<program::Binding>& bindings,
                   const std::vector<uint64_t>& offsets, const kiln_device::Buffer& host, bool to_arena,
                   VkCommandBuffer commands) {
  const program::StepValues bound = program::bound_step(e.program);
  std::vector<VkBufferCopy> regions;
  for (size_t i = 0; i < bindings.size(); ++i) {
    const uint64_t bytes = program::byte_size(bindings[i].ref, bound);
    const uint64_t arena = bindings[i].ref.offset;
    if (bytes > 0) regions.push_back(to_arena ? VkBufferCopy{offsets[i], arena, bytes} : VkBufferCopy{arena, offsets[i], bytes});
  }
  if (regions.empty()) return;
  if (to_arena) {
    vkCmdCopyBuffer(commands, host.buffer, e.arena.buffer, static_cast<uint32_t>(regions.size()), regions.data());
  } else {
    vkCmdCopyBuffer(commands, e.arena.buffer, host.buffer, static_cast<uint32_t>(regions.size()), regions.data());
  }
}

}  // namespace

absl::Status record_commands(kiln_executable& e) {
  VkDevice device = e.device->handle();
  if (e.commands == VK_NULL_HANDLE) {
    VkCommandBufferAllocateInfo allocate{};
    allocate.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    allocate.commandPool = e.device->command_pool();
    allocate.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    allocate.commandBufferCount = 1;
    KILN_VK_RETURN_IF_ERROR(vkAllocateCommandBuffers(device, &allocate, &e.commands),
                            "allocating the step's command buffer");
  }
  VkCommandBuffer commands = e.commands;
  KILN_VK_RETURN_IF_ERROR(vkResetCommandBuffer(commands, 0), "resetting the step's command buffer");
  VkCommandBufferBeginInfo begin{};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  KILN_VK_RETURN_IF_ERROR(vkBeginCommandBuffer(commands, &begin), "recording the step's command buffer");
  if (e.queries != VK_NULL_HANDLE) {
    vkCmdResetQueryPool(commands, e.queries, 0, static_cast<uint32_t>(2 * e.plans.size()));
  }
  constexpr VkAccessFlags kAll = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT;
  barrier(commands, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, kAll,
          VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, kAll);
  record_copies(e, e.program.inputs, e.input_offsets, e.inputs, true, commands);
  barrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
          VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
  absl::Status dispatched = record_dispatches(e, commands);
  barrier(commands, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
          VK_ACCESS_TRANSFER_READ_BIT);
  record_copies(e, e.program.outputs, e.output_offsets, e.outputs, false, commands);
  barrier(commands, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
          VK_ACCESS_HOST_READ_BIT);
  const VkResult ended = vkEndCommandBuffer(commands);
  if (!dispatched.ok()) return dispatched;
  KILN_VK_RETURN_IF_ERROR(ended, "recording the step's command buffer");
  return e.device->check_validation();
}

}  // namespace kiln::backends::vulkan
