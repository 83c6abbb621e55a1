#include <algorithm>

#include "absl/strings/str_cat.h"
#include "backends/support/kernel_table.h"
#include "backends/vulkan/executable.h"
#include "backends/vulkan/specialization.h"
#include "backends/vulkan/vk_status.h"
#include "kernels/vulkan/kernel_table.h"
#include "program/step.h"

namespace kiln::backends::vulkan {
namespace {

using kernels::vulkan::KernelRow;

// The grid of dispatch |index|, its workgroup count folded into x and y.
absl::Status plan_grid(const kiln_device& device, const program::Program& program, size_t index,
                       const KernelRow& row, const Specialization& specialization, DispatchPlan& plan) {
  const program::StepValues bound = program::bound_step(program);
  const kernels::vulkan::GridContext context{program.dispatches[index], bound, specialization.wg_size,
                                            device.constants().subgroup_size};
  const uint64_t groups = row.kernel.grid(context);
  const uint32_t* limit = device.properties().limits.maxComputeWorkGroupCount;
  const uint64_t x = std::min<uint64_t>(groups, limit[0]);
  const uint64_t y = x == 0 ? 0 : (groups + x - 1) / x;
  if (y > limit[1]) {
    return absl::OutOfRangeError(absl::StrCat(support::dispatch_label(program, index), ": ", groups,
                                              " workgroups exceed the device's grid"));
  }
  plan.groups_x = static_cast<uint32_t>(x);
  plan.groups_y = static_cast<uint32_t>(y);
  plan.scratch_bytes = row.kernel.scratch != nullptr ? row.kernel.scratch(context) : 0;
  return absl::OkStatus();
}

absl::StatusOr<DispatchPlan> plan_dispatch(kiln_device& device, const program::Program& program, size_t index) {
  const program::Dispatch& dispatch = program.dispatches[index];
  const KernelRow* row = support::find_kernel(kernels::vulkan::kernel_table(), dispatch.kernel, dispatch.variant);
  if (row == nullptr) return support::missing_kernel(program, index, "vulkan");
  const std::string label = support::dispatch_label(program, index);
  if (dispatch.inputs.size() + dispatch.outputs.size() > kMaxOperands) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": more than ", kMaxOperands, " operands"));
  }
  if (row->kernel.needs_cooperative_matrix && !device.constants().cooperative_matrix) {
    return absl::FailedPreconditionError(absl::StrCat(label, ": variant ", dispatch.variant,
                                                      " needs cooperative matrices (VK_NV_cooperative_matrix, 16 x 16 x "
                                                      "16 f16 -> f32), which '",
                                                      device.properties().deviceName, "' lacks"));
  }
  if (row->kernel.needs_subgroups && device.constants().subgroup_size == 0) {
    return absl::FailedPreconditionError(absl::StrCat(label, ": variant ", dispatch.variant,
                                                      " needs subgroup arithmetic of one fixed size, which '",
                                                      device.properties().deviceName, "' lacks"));
  }
  absl::StatusOr<const std::vector<SpecConstant>*> declared = device.spec_constants(*row);
  if (!declared.ok()) return declared.status();
  absl::StatusOr<Specialization> specialization = specialise(**declared, program, index, device.constants());
  if (!specialization.ok()) return specialization.status();
  DispatchPlan plan;
  absl::StatusOr<VkPipeline> pipeline = device.pipeline(*row, *specialization);
  if (!pipeline.ok()) return absl::Status(pipeline.status().code(), absl::StrCat(label, ": ", pipeline.status().message()));
  plan.pipeline = *pipeline;
  if (absl::Status s = plan_grid(device, program, index, *row, *specialization, plan); !s.ok()) return s;
  return plan;
}

// Barriers only where needed: before a dispatch that touches memory a
// dispatch since the last barrier touched (its `after` list).
void place_barriers(const program::Program& program, std::vector<DispatchPlan>& plans) {
  int32_t since = 0;  // the first dispatch after the last barrier
  for (size_t i = 0; i < plans.size(); ++i) {
    const std::vector<int32_t>& after = program.dispatches[i].after;
    if (std::any_of(after.begin(), after.end(), [&](int32_t a) { return a >= since; })) {
      plans[i].barrier_before = true;
      since = static_cast<int32_t>(i);
    }
  }
}

// Gives each dispatch that keeps scratch its own range of one buffer,
// zero-filled once; the kernels leave it as they found it (zeroed
// counters) or overwrite it before reading.
absl::Status allocate_scratch(kiln_executable& e) {
  uint64_t total = 0;
  for (DispatchPlan& plan : e.plans) {
    plan.scratch_offset = total;
    total += (plan.scratch_bytes + 255) / 256 * 256;
  }
  if (total == 0) return absl::OkStatus();
  absl::StatusOr<kiln_device::Buffer> buffer = e.device->create_buffer(total, Memory::device_local, "the scratch");
  if (!buffer.ok()) return buffer.status();
  e.scratch = *buffer;
  absl::StatusOr<VkCommandBuffer> commands = e.device->begin_one_time();
  if (!commands.ok()) return commands.status();
  vkCmdFillBuffer(*commands, e.scratch.buffer, 0, VK_WHOLE_SIZE, 0);
  return e.device->end_one_time(*commands, "zero-filling the scratch");
}

// Lays |bindings| out back to back at their bound sizes; returns the total.
uint64_t lay_out(const program::Program& program, const std::vector<program::Binding>& bindings,
                 std::vector<uint64_t>& offsets) {
  const program::StepValues bound = program::bound_step(program);
  uint64_t total = 0;
  for (const program::Binding& binding : bindings) {
    offsets.push_back(total);
    total += (program::byte_size(binding.ref, bound) + 15) / 16 * 16;
  }
  return total;
}

absl::Status check_io_regions(const program::Program& program) {
  for (const auto* list : {&program.inputs, &program.outputs}) {
    for (const program::Binding& binding : *list) {
      if (binding.ref.region != program::Region::arena) {
        return absl::UnimplementedError(absl::StrCat("binding '", binding.name, "' lives in the ",
                                                     std::string(program::region_name(binding.ref.region)),
                                                     "; the vulkan plugin copies inputs and outputs to the arena only"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<kiln_executable>> compile_program(kiln_device* device, program::Program program) {
  if (absl::Status s = check_io_regions(program); !s.ok()) return s;
  auto executable = std::make_unique<kiln_executable>();
  executable->device = device;
  executable->program = std::move(program);
  const program::Program& p = executable->program;
  const uint64_t builds_before = device->counters().builds;
  for (size_t i = 0; i < p.dispatches.size(); ++i) {
    absl::StatusOr<DispatchPlan> plan = plan_dispatch(*device, p, i);
    if (!plan.ok()) return plan.status();
    executable->plans.push_back(*plan);
  }
  place_barriers(p, executable->plans);
  if (device->counters().builds != builds_before) {
    if (absl::Status s = device->save_pipeline_cache(); !s.ok()) {
      std::fprintf(stderr, "kiln-vulkan: warning: %s\n", std::string(s.message()).c_str());
    }
  }

  struct Allocation {
    kiln_device::Buffer* buffer;
    uint64_t size;
    Memory memory;
    std::string what;
  };
  const uint64_t input_bytes = lay_out(p, p.inputs, executable->input_offsets);
  const uint64_t output_bytes = lay_out(p, p.outputs, executable->output_offsets);
  const Allocation allocations[] = {
      {&executable->arena, static_cast<uint64_t>(p.arena_bytes), Memory::device_local, "the arena"},
      {&executable->steps, p.slots.size() * sizeof(uint32_t), Memory::upload, "the step values"},
      {&executable->inputs, input_bytes, Memory::upload, "the inputs"},
      {&executable->outputs, output_bytes, Memory::readback, "the outputs"},
  };
  for (const Allocation& a : allocations) {
    absl::StatusOr<kiln_device::Buffer> buffer = device->create_buffer(a.size, a.memory, a.what);
    if (!buffer.ok()) return buffer.status();
    *a.buffer = *buffer;
  }
  if (absl::Status s = allocate_scratch(*executable); !s.ok()) return s;
  if (device->profiling() && !p.dispatches.empty()) {
    VkQueryPoolCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
    info.queryType = VK_QUERY_TYPE_TIMESTAMP;
    info.queryCount = static_cast<uint32_t>(2 * p.dispatches.size());
    KILN_VK_RETURN_IF_ERROR(vkCreateQueryPool(device->handle(), &info, nullptr, &executable->queries),
                            "creating the timestamp queries for --profile");
    for (uint32_t i = 0; i < p.dispatches.size(); ++i) executable->profile.push_back({i, 0, 0});
  }
  if (absl::Status s = device->check_validation(); !s.ok()) return s;
  return executable;
}

}  // namespace kiln::backends::vulkan

kiln_executable::~kiln_executable() {
  if (commands != VK_NULL_HANDLE) vkFreeCommandBuffers(device->handle(), device->command_pool(), 1, &commands);
  if (queries != VK_NULL_HANDLE) vkDestroyQueryPool(device->handle(), queries, nullptr);
  for (kiln_device::Buffer* buffer : {&arena, &steps, &inputs, &outputs, &scratch}) device->destroy_buffer(*buffer);
}
