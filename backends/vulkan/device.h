#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <vulkan/vulkan.h>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "backends/vulkan/instance.h"
#include "backends/vulkan/pipeline_cache.h"
#include "backends/vulkan/specialization.h"
#include "kernels/vulkan/kernel_table.h"

namespace kiln::backends::vulkan {

// Where a buffer's memory lives.
enum class Memory : uint8_t {
  device_local,  // the arena, the state, the weights
  upload,        // host-visible, written by the host: inputs, step values, staging
  readback,      // host-visible, read by the host: outputs
};

// A buffer with its own memory, addressable by shaders (buffer device
// address). |mapped| is set for host-visible memory.
struct Buffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  uint64_t size = 0;
  VkDeviceAddress address = 0;
  uint8_t* mapped = nullptr;
};

// The layout every kernel shares: no descriptor sets, one push-constant
// block (kernels/vulkan/common.glsl): the step-values address, the
// dispatch's scratch (0 when its kernel keeps none), then one address per
// operand. 13 operands fill the 128 bytes every Vulkan device must allow
// (maxPushConstantsSize); rmsnorm_qkv_rope with biases has 13.
constexpr uint32_t kMaxOperands = 13;
struct PushConstants {
  VkDeviceAddress steps;
  VkDeviceAddress scratch;
  VkDeviceAddress operands[kMaxOperands];
};
static_assert(sizeof(PushConstants) <= 128, "the push constants every Vulkan device allows");

}  // namespace kiln::backends::vulkan

// One opened Vulkan device: its queue, its pipelines (shared by every
// executable made on it), its pipeline cache, the one bounded staging
// buffer, and the counters. Entries on one device never run concurrently
// (backend.h), so nothing here locks.
struct kiln_device {
 public:
  using Memory = kiln::backends::vulkan::Memory;
  using Buffer = kiln::backends::vulkan::Buffer;

  static absl::StatusOr<std::unique_ptr<kiln_device>> open(uint32_t index, const kiln_device_options& options);
  ~kiln_device();

  VkDevice handle() const { return device_; }
  const VkPhysicalDeviceProperties& properties() const { return properties_; }
  bool profiling() const { return profile_; }
  kiln_counters& counters() { return counters_; }
  const kiln::backends::vulkan::DeviceConstants& constants() const { return constants_; }
  VkPipelineLayout pipeline_layout() const { return layout_; }
  VkCommandPool command_pool() const { return pool_; }
  uint32_t queue_timestamp_bits() const { return timestamp_bits_; }

  // A buffer of |size| bytes; |what| names it in errors ("the arena").
  // Counts one allocation.
  absl::StatusOr<Buffer> create_buffer(uint64_t size, Memory memory, const std::string& what);
  void destroy_buffer(Buffer& buffer);

  // Copies host bytes into |dst| at |offset| (and back out) through the
  // device's one staging buffer, in pieces of its size. Blocks.
  absl::Status upload(const Buffer& dst, uint64_t offset, const void* data, uint64_t bytes, const std::string& what);
  absl::Status download(const Buffer& src, uint64_t offset, void* data, uint64_t bytes, const std::string& what);

  // The pipeline of |row| with these constants, built once per device.
  absl::StatusOr<VkPipeline> pipeline(const kiln::kernels::vulkan::KernelRow& row,
                                      const kiln::backends::vulkan::Specialization& specialization);
  // The specialisation constants |row|'s SPIR-V declares, reflected once.
  absl::StatusOr<const std::vector<kiln::backends::vulkan::SpecConstant>*> spec_constants(
      const kiln::kernels::vulkan::KernelRow& row);
  absl::Status save_pipeline_cache() { return cache_.save(); }

  // Submits |commands| and waits for them. A lost device stays lost: every
  // later submission fails at once.
  absl::Status submit(VkCommandBuffer commands, const std::string& what);

  // A one-time command buffer, begun; end_one_time submits, waits, frees.
  absl::StatusOr<VkCommandBuffer> begin_one_time();
  absl::Status end_one_time(VkCommandBuffer commands, const std::string& what);

  // Fails with the validation messages received since the last check.
  absl::Status check_validation();

 private:
  // Waits for fence_ after a submit (polling a GPU, blocking on a CPU device).
  VkResult wait_for_fence();
  kiln_device() = default;
  absl::Status create(uint32_t index, const kiln_device_options& options);
  absl::StatusOr<uint32_t> memory_type(uint32_t allowed, Memory memory) const;
  absl::Status copy(const Buffer& src, uint64_t src_offset, const Buffer& dst, uint64_t dst_offset, uint64_t bytes,
                    const std::string& what);

  kiln::backends::vulkan::Instance* instance_ = nullptr;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties properties_{};
  VkPhysicalDeviceMemoryProperties memory_{};
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  uint32_t timestamp_bits_ = 0;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  kiln::backends::vulkan::PipelineCache cache_;
  bool creation_feedback_ = false;
  bool lost_ = false;
  bool profile_ = false;
  kiln::backends::vulkan::DeviceConstants constants_;
  Buffer staging_;
  kiln_counters counters_{};
  std::map<const void*, VkShaderModule> modules_;
  std::map<const void*, std::vector<kiln::backends::vulkan::SpecConstant>> reflected_;
  std::map<std::pair<const void*, std::vector<uint32_t>>, VkPipeline> pipelines_;
};
