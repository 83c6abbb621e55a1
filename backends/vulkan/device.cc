#include "backends/vulkan/device.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "backends/support/poll.h"
#include "backends/vulkan/vk_status.h"

namespace kiln::backends::vulkan {
namespace {

// The bounded staging buffer every weight upload and state read goes
// through.
constexpr uint64_t kStagingBytes = 16ull << 20;

std::string mib(uint64_t bytes) { return absl::StrCat(bytes / (1 << 20), " MiB"); }

const char* memory_name(Memory memory) {
  switch (memory) {
    case Memory::device_local: return "device-local";
    case Memory::upload: return "host-visible";
    case Memory::readback: return "host-visible (readback)";
  }
  return "";
}

bool has_extension(VkPhysicalDevice device, const char* name) {
  uint32_t count = 0;
  vkEnumerateDeviceExtensionProperties(device, nullptr, &count, nullptr);
  std::vector<VkExtensionProperties> extensions(count);
  vkEnumerateDeviceExtensionProperties(device, nullptr, &count, extensions.data());
  return std::any_of(extensions.begin(), extensions.end(),
                     [&](const VkExtensionProperties& e) { return std::strcmp(e.extensionName, name) == 0; });
}

// The features every kernel needs (kernels/vulkan/common.glsl), each named
// for the error when the device lacks it.
absl::Status check_features(const VkPhysicalDeviceFeatures2& features, const VkPhysicalDeviceVulkan11Features& f11,
                            const VkPhysicalDeviceVulkan12Features& f12, const char* device_name) {
  std::vector<std::string> missing;
  if (!f12.bufferDeviceAddress) missing.push_back("bufferDeviceAddress");
  if (!f11.storageBuffer16BitAccess) missing.push_back("storageBuffer16BitAccess");
  if (!features.features.shaderInt16) missing.push_back("shaderInt16");
  if (missing.empty()) return absl::OkStatus();
  std::string list;
  for (const std::string& name : missing) absl::StrAppend(&list, list.empty() ? "" : ", ", name);
  return absl::FailedPreconditionError(
      absl::StrCat("the Vulkan device '", device_name, "' lacks the features kiln's kernels need: ", list));
}

}  // namespace
}  // namespace kiln::backends::vulkan

using namespace kiln::backends::vulkan;  // NOLINT: the device's methods live in the global namespace

absl::StatusOr<std::unique_ptr<kiln_device>> kiln_device::open(uint32_t index, const kiln_device_options& options) {
  std::unique_ptr<kiln_device> device(new kiln_device());
  if (absl::Status status = device->create(index, options); !status.ok()) return status;
  return device;
}

absl::Status kiln_device::create(uint32_t index, const kiln_device_options& options) {
  absl::StatusOr<Instance*> instance = Instance::get();
  if (!instance.ok()) return instance.status();
  instance_ = *instance;
  if (index >= instance_->devices().size()) {
    return absl::NotFoundError(absl::StrCat("Vulkan device ", index, " does not exist (",
                                            instance_->devices().size(), " with Vulkan 1.2)"));
  }
  physical_ = instance_->devices()[index];
  vkGetPhysicalDeviceProperties(physical_, &properties_);
  vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
  profile_ = options.profile != 0;
  counters_.struct_size = sizeof counters_;

  VkPhysicalDeviceVulkan12Features f12{};
  f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  VkPhysicalDeviceVulkan11Features f11{};
  f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  f11.pNext = &f12;
  VkPhysicalDeviceFeatures2 supported{};
  supported.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  supported.pNext = &f11;
  vkGetPhysicalDeviceFeatures2(physical_, &supported);
  if (absl::Status s = check_features(supported, f11, f12, properties_.deviceName); !s.ok()) return s;

  kiln_capabilities caps{};
  caps.struct_size = sizeof caps;
  describe_device(physical_, &caps);
  constants_.subgroup_size = caps.subgroup_size_min == caps.subgroup_size_max ? caps.subgroup_size_min : 0;
  constants_.cooperative_matrix = caps.cooperative_matrix != 0;

  uint32_t family_count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(physical_, &family_count, nullptr);
  std::vector<VkQueueFamilyProperties> families(family_count);
  vkGetPhysicalDeviceQueueFamilyProperties(physical_, &family_count, families.data());
  auto family = std::find_if(families.begin(), families.end(),
                             [](const VkQueueFamilyProperties& f) { return f.queueFlags & VK_QUEUE_COMPUTE_BIT; });
  if (family == families.end()) {
    return absl::FailedPreconditionError(absl::StrCat("the Vulkan device '", properties_.deviceName,
                                                      "' has no compute queue"));
  }
  queue_family_ = static_cast<uint32_t>(family - families.begin());
  timestamp_bits_ = family->timestampValidBits;
  if (profile_ && (timestamp_bits_ == 0 || !properties_.limits.timestampComputeAndGraphics)) {
    return absl::FailedPreconditionError(absl::StrCat("profiling asks for timestamps, which the compute queue of '",
                                                      properties_.deviceName, "' lacks"));
  }

  VkPhysicalDeviceVulkan12Features enable12{};
  enable12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  enable12.bufferDeviceAddress = VK_TRUE;
  enable12.shaderFloat16 = f12.shaderFloat16;
  // matmul_coopmat.comp: the NV extension, its feature, and the Vulkan
  // memory model its SPIR-V declares (describe_device checked all three).
  VkPhysicalDeviceCooperativeMatrixFeaturesNV coopmat{};
  coopmat.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV;
  coopmat.cooperativeMatrix = VK_TRUE;
  if (constants_.cooperative_matrix) {
    enable12.vulkanMemoryModel = VK_TRUE;
    enable12.pNext = &coopmat;
  }
  VkPhysicalDeviceVulkan11Features enable11{};
  enable11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  enable11.storageBuffer16BitAccess = VK_TRUE;
  enable11.pNext = &enable12;
  VkPhysicalDeviceFeatures2 enable{};
  enable.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  enable.features.shaderInt16 = VK_TRUE;
  enable.pNext = &enable11;
  std::vector<const char*> extensions;
  creation_feedback_ = has_extension(physical_, VK_EXT_PIPELINE_CREATION_FEEDBACK_EXTENSION_NAME);
  if (creation_feedback_) extensions.push_back(VK_EXT_PIPELINE_CREATION_FEEDBACK_EXTENSION_NAME);
  if (constants_.cooperative_matrix) extensions.push_back(VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue{};
  queue.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  queue.queueFamilyIndex = queue_family_;
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;
  VkDeviceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  info.pNext = &enable;
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &queue;
  info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
  info.ppEnabledExtensionNames = extensions.data();
  KILN_VK_RETURN_IF_ERROR(vkCreateDevice(physical_, &info, nullptr, &device_),
                          absl::StrCat("opening the Vulkan device '", properties_.deviceName, "'"));
  vkGetDeviceQueue(device_, queue_family_, 0, &queue_);

  VkCommandPoolCreateInfo pool{};
  pool.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  pool.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool.queueFamilyIndex = queue_family_;
  KILN_VK_RETURN_IF_ERROR(vkCreateCommandPool(device_, &pool, nullptr, &pool_), "creating a command pool");
  VkFenceCreateInfo fence{};
  fence.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  KILN_VK_RETURN_IF_ERROR(vkCreateFence(device_, &fence, nullptr, &fence_), "creating a fence");

  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(PushConstants)};
  if (range.size > properties_.limits.maxPushConstantsSize) {
    return absl::FailedPreconditionError(absl::StrCat("kiln's kernels need ", range.size,
                                                      " bytes of push constants; the device offers ",
                                                      properties_.limits.maxPushConstantsSize));
  }
  VkPipelineLayoutCreateInfo layout{};
  layout.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
  layout.pushConstantRangeCount = 1;
  layout.pPushConstantRanges = &range;
  KILN_VK_RETURN_IF_ERROR(vkCreatePipelineLayout(device_, &layout, nullptr, &layout_), "creating the pipeline layout");

  absl::StatusOr<PipelineCache> cache =
      PipelineCache::open(device_, properties_, options.cache_dir != nullptr ? options.cache_dir : "");
  if (!cache.ok()) return cache.status();
  cache_ = *cache;
  return check_validation();
}

kiln_device::~kiln_device() {
  if (device_ == VK_NULL_HANDLE) return;
  vkDeviceWaitIdle(device_);
  if (absl::Status saved = cache_.save(); !saved.ok()) {
    std::fprintf(stderr, "kiln-vulkan: warning: %s\n", std::string(saved.message()).c_str());
  }
  for (auto& [key, pipeline] : pipelines_) vkDestroyPipeline(device_, pipeline, nullptr);
  for (auto& [key, module] : modules_) vkDestroyShaderModule(device_, module, nullptr);
  destroy_buffer(staging_);
  cache_.destroy();
  if (layout_ != VK_NULL_HANDLE) vkDestroyPipelineLayout(device_, layout_, nullptr);
  if (fence_ != VK_NULL_HANDLE) vkDestroyFence(device_, fence_, nullptr);
  if (pool_ != VK_NULL_HANDLE) vkDestroyCommandPool(device_, pool_, nullptr);
  vkDestroyDevice(device_, nullptr);
}

absl::Status kiln_device::check_validation() { return instance_->take_validation_messages(); }

absl::StatusOr<uint32_t> kiln_device::memory_type(uint32_t allowed, Memory memory) const {
  // Preferred flags first, then the flags that must hold.
  std::vector<VkMemoryPropertyFlags> wanted;
  constexpr VkMemoryPropertyFlags kHost = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  switch (memory) {
    case Memory::device_local: wanted = {VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT}; break;
    case Memory::upload: wanted = {kHost}; break;
    case Memory::readback: wanted = {kHost | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, kHost}; break;
  }
  for (VkMemoryPropertyFlags flags : wanted) {
    for (uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
      if ((allowed & (1u << i)) && (memory_.memoryTypes[i].propertyFlags & flags) == flags) return i;
    }
  }
  return absl::FailedPreconditionError(absl::StrCat("no ", memory_name(memory), " memory type"));
}

absl::StatusOr<Buffer> kiln_device::create_buffer(uint64_t size, Memory memory, const std::string& what) {
  const std::string asked = absl::StrCat("allocating ", what, " (", size, " bytes of ", memory_name(memory),
                                         " memory, ", mib(size), ")");
  Buffer buffer;
  buffer.size = std::max<uint64_t>(size, 4);
  VkBufferCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  info.size = buffer.size;
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  KILN_VK_RETURN_IF_ERROR(vkCreateBuffer(device_, &info, nullptr, &buffer.buffer), asked);
  VkMemoryRequirements requirements;
  vkGetBufferMemoryRequirements(device_, buffer.buffer, &requirements);
  absl::StatusOr<uint32_t> type = memory_type(requirements.memoryTypeBits, memory);
  if (!type.ok()) {
    destroy_buffer(buffer);
    return absl::FailedPreconditionError(absl::StrCat(asked, ": ", type.status().message()));
  }
  VkMemoryAllocateFlagsInfo flags{};
  flags.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO;
  flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
  VkMemoryAllocateInfo allocate{};
  allocate.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  allocate.pNext = &flags;
  allocate.allocationSize = requirements.size;
  allocate.memoryTypeIndex = *type;
  VkResult result = vkAllocateMemory(device_, &allocate, nullptr, &buffer.memory);
  if (result == VK_SUCCESS) result = vkBindBufferMemory(device_, buffer.buffer, buffer.memory, 0);
  if (result == VK_SUCCESS && memory != Memory::device_local) {
    void* mapped = nullptr;
    result = vkMapMemory(device_, buffer.memory, 0, VK_WHOLE_SIZE, 0, &mapped);
    buffer.mapped = static_cast<uint8_t*>(mapped);
  }
  if (result != VK_SUCCESS) {
    destroy_buffer(buffer);
    return vk_status(result, asked);
  }
  VkBufferDeviceAddressInfo address{};
  address.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO;
  address.buffer = buffer.buffer;
  buffer.address = vkGetBufferDeviceAddress(device_, &address);
  ++counters_.allocations;
  return buffer;
}

void kiln_device::destroy_buffer(Buffer& buffer) {
  if (buffer.buffer != VK_NULL_HANDLE) vkDestroyBuffer(device_, buffer.buffer, nullptr);
  if (buffer.memory != VK_NULL_HANDLE) vkFreeMemory(device_, buffer.memory, nullptr);
  buffer = Buffer{};
}

absl::StatusOr<VkCommandBuffer> kiln_device::begin_one_time() {
  VkCommandBufferAllocateInfo allocate{};
  allocate.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  allocate.commandPool = pool_;
  allocate.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  allocate.commandBufferCount = 1;
  VkCommandBuffer commands = VK_NULL_HANDLE;
  KILN_VK_RETURN_IF_ERROR(vkAllocateCommandBuffers(device_, &allocate, &commands), "allocating a command buffer");
  VkCommandBufferBeginInfo begin{};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  if (VkResult result = vkBeginCommandBuffer(commands, &begin); result != VK_SUCCESS) {
    vkFreeCommandBuffers(device_, pool_, 1, &commands);
    return vk_status(result, "beginning a command buffer");
  }
  return commands;
}

absl::Status kiln_device::end_one_time(VkCommandBuffer commands, const std::string& what) {
  absl::Status status = absl::OkStatus();
  if (VkResult result = vkEndCommandBuffer(commands); result != VK_SUCCESS) status = vk_status(result, what);
  if (status.ok()) status = submit(commands, what);
  vkFreeCommandBuffers(device_, pool_, 1, &commands);
  return status;
}

VkResult kiln_device::wait_for_fence() {
  // Polled on a GPU (support::poll_step says why: 652 -> 692 tok/s on the
  // H100's Llama-3.2-1B decode); lavapipe blocks at once.
  if (properties_.deviceType != VK_PHYSICAL_DEVICE_TYPE_CPU) {
    VkResult status = VK_NOT_READY;
    const auto signalled = [&] { return (status = vkGetFenceStatus(device_, fence_)) != VK_NOT_READY; };
    if (kiln::backends::support::poll_step(signalled)) return status;
  }
  return vkWaitForFences(device_, 1, &fence_, VK_TRUE, UINT64_MAX);
}

absl::Status kiln_device::submit(VkCommandBuffer commands, const std::string& what) {
  if (lost_) return absl::UnavailableError(absl::StrCat(what, ": the Vulkan device was lost earlier"));
  VkSubmitInfo submit{};
  submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &commands;
  VkResult result = vkQueueSubmit(queue_, 1, &submit, fence_);
  if (result == VK_SUCCESS) {
    ++counters_.submits;
    result = wait_for_fence();
    vkResetFences(device_, 1, &fence_);
  }
  if (result == VK_ERROR_DEVICE_LOST) lost_ = true;
  if (result != VK_SUCCESS) return vk_status(result, what);
  return check_validation();
}

absl::Status kiln_device::copy(const Buffer& src, uint64_t src_offset, const Buffer& dst, uint64_t dst_offset,
                               uint64_t bytes, const std::string& what) {
  absl::StatusOr<VkCommandBuffer> commands = begin_one_time();
  if (!commands.ok()) return commands.status();
  VkBufferCopy region{src_offset, dst_offset, bytes};
  vkCmdCopyBuffer(*commands, src.buffer, dst.buffer, 1, &region);
  return end_one_time(*commands, what);
}

absl::Status kiln_device::upload(const Buffer& dst, uint64_t offset, const void* data, uint64_t bytes,
                                 const std::string& what) {
  if (staging_.buffer == VK_NULL_HANDLE && bytes > 0) {
    absl::StatusOr<Buffer> staging = create_buffer(kStagingBytes, Memory::upload, "the staging buffer");
    if (!staging.ok()) return staging.status();
    staging_ = *staging;
  }
  const uint8_t* bytes_in = static_cast<const uint8_t*>(data);
  for (uint64_t done = 0; done < bytes;) {
    const uint64_t piece = std::min(bytes - done, kStagingBytes);
    std::memcpy(staging_.mapped, bytes_in + done, piece);
    if (absl::Status s = copy(staging_, 0, dst, offset + done, piece, what); !s.ok()) return s;
    done += piece;
  }
  counters_.bytes_to_device += bytes;
  return absl::OkStatus();
}

absl::Status kiln_device::download(const Buffer& src, uint64_t offset, void* data, uint64_t bytes,
                                   const std::string& what) {
  if (staging_.buffer == VK_NULL_HANDLE && bytes > 0) {
    absl::StatusOr<Buffer> staging = create_buffer(kStagingBytes, Memory::upload, "the staging buffer");
    if (!staging.ok()) return staging.status();
    staging_ = *staging;
  }
  uint8_t* bytes_out = static_cast<uint8_t*>(data);
  for (uint64_t done = 0; done < bytes;) {
    const uint64_t piece = std::min(bytes - done, kStagingBytes);
    if (absl::Status s = copy(src, offset + done, staging_, 0, piece, what); !s.ok()) return s;
    std::memcpy(bytes_out + done, staging_.mapped, piece);
    done += piece;
  }
  counters_.bytes_from_device += bytes;
  return absl::OkStatus();
}

absl::StatusOr<const std::vector<SpecConstant>*> kiln_device::spec_constants(
    const kiln::kernels::vulkan::KernelRow& row) {
  const void* key = row.kernel.spirv.data();
  auto found = reflected_.find(key);
  if (found == reflected_.end()) {
    absl::StatusOr<std::vector<SpecConstant>> reflected = reflect_spec_constants(row.kernel.spirv);
    if (!reflected.ok()) {
      return absl::InternalError(absl::StrCat("kernel ", std::string(row.op), "_", std::string(row.variant),
                                              ".comp: ", reflected.status().message()));
    }
    found = reflected_.emplace(key, *std::move(reflected)).first;
  }
  return &found->second;
}

absl::StatusOr<VkPipeline> kiln_device::pipeline(const kiln::kernels::vulkan::KernelRow& row,
                                                 const Specialization& specialization) {
  const void* key = row.kernel.spirv.data();
  auto cached = pipelines_.find({key, specialization.data});
  if (cached != pipelines_.end()) return cached->second;
  const std::string name = absl::StrCat(std::string(row.op), "_", std::string(row.variant), ".comp");
  VkShaderModule& module = modules_[key];
  if (module == VK_NULL_HANDLE) {
    VkShaderModuleCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
    info.codeSize = row.kernel.spirv.size_bytes();
    info.pCode = row.kernel.spirv.data();
    KILN_VK_RETURN_IF_ERROR(vkCreateShaderModule(device_, &info, nullptr, &module),
                            absl::StrCat("creating the shader module of ", name));
  }
  VkSpecializationInfo constants{};
  constants.mapEntryCount = static_cast<uint32_t>(specialization.entries.size());
  constants.pMapEntries = specialization.entries.data();
  constants.dataSize = specialization.data.size() * sizeof(uint32_t);
  constants.pData = specialization.data.data();
  VkPipelineCreationFeedback feedback{};
  VkPipelineCreationFeedbackCreateInfo feedback_info{};
  feedback_info.sType = VK_STRUCTURE_TYPE_PIPELINE_CREATION_FEEDBACK_CREATE_INFO;
  feedback_info.pPipelineCreationFeedback = &feedback;
  VkComputePipelineCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
  info.pNext = creation_feedback_ ? &feedback_info : nullptr;
  info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  info.stage.module = module;
  info.stage.pName = "main";
  info.stage.pSpecializationInfo = &constants;
  info.layout = layout_;
  VkPipeline pipeline = VK_NULL_HANDLE;
  KILN_VK_RETURN_IF_ERROR(vkCreateComputePipelines(device_, cache_.handle(), 1, &info, nullptr, &pipeline),
                          absl::StrCat("creating the pipeline of ", name));
  // A build unless the driver says the cache held it.
  const bool hit = (feedback.flags & VK_PIPELINE_CREATION_FEEDBACK_VALID_BIT) &&
                   (feedback.flags & VK_PIPELINE_CREATION_FEEDBACK_APPLICATION_PIPELINE_CACHE_HIT_BIT);
  if (!hit) ++counters_.builds;
  pipelines_.emplace(std::make_pair(key, specialization.data), pipeline);
  return pipeline;
}
