#include "backends/vulkan/instance.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backends/support/guard.h"
#include "backends/vulkan/vk_status.h"

namespace kiln::backends::vulkan {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

bool env_flag(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && std::strcmp(value, "1") == 0;
}

bool has_layer(const char* name) {
  uint32_t count = 0;
  vkEnumerateInstanceLayerProperties(&count, nullptr);
  std::vector<VkLayerProperties> layers(count);
  vkEnumerateInstanceLayerProperties(&count, layers.data());
  return std::any_of(layers.begin(), layers.end(),
                     [&](const VkLayerProperties& layer) { return std::strcmp(layer.layerName, name) == 0; });
}

bool has_instance_extension(const char* name) {
  uint32_t count = 0;
  vkEnumerateInstanceExtensionProperties(nullptr, &count, nullptr);
  std::vector<VkExtensionProperties> extensions(count);
  vkEnumerateInstanceExtensionProperties(nullptr, &count, extensions.data());
  return std::any_of(extensions.begin(), extensions.end(),
                     [&](const VkExtensionProperties& e) { return std::strcmp(e.extensionName, name) == 0; });
}

VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT,
                                          VkDebugUtilsMessageTypeFlagsEXT,
                                          const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  static_cast<Instance*>(user)->add_validation_message(data->pMessage != nullptr ? data->pMessage : "(no text)");
  return VK_FALSE;
}

uint32_t type_rank(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    default: return 3;
  }
}

uint32_t kiln_device_type(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return KILN_DEVICE_DISCRETE_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return KILN_DEVICE_INTEGRATED_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return KILN_DEVICE_VIRTUAL_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return KILN_DEVICE_CPU;
    default: return KILN_DEVICE_OTHER;
  }
}

bool has_device_extension(VkPhysicalDevice device, const char* name) {
  uint32_t count = 0;
  vkEnumerateDeviceExtensionProperties(device, nullptr, &count, nullptr);
  std::vector<VkExtensionProperties> extensions(count);
  vkEnumerateDeviceExtensionProperties(device, nullptr, &count, extensions.data());
  return std::any_of(extensions.begin(), extensions.end(),
                     [&](const VkExtensionProperties& e) { return std::strcmp(e.extensionName, name) == 0; });
}

// Whether |device| multiplies 16 x 16 x 16 f16 fragments into f32 in
// subgroups of 32 through VK_NV_cooperative_matrix, with the Vulkan memory
// model its shaders declare: what kernels/vulkan/matmul_coopmat.comp needs.
bool has_nv_cooperative_matrix(VkPhysicalDevice device, uint32_t subgroup_min, uint32_t subgroup_max) {
  if (subgroup_min != 32 || subgroup_max != 32) return false;
  if (!has_device_extension(device, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME)) return false;
  VkPhysicalDeviceCooperativeMatrixFeaturesNV coopmat{};
  coopmat.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV;
  VkPhysicalDeviceVulkan12Features features12{};
  features12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  features12.pNext = &coopmat;
  VkPhysicalDeviceFeatures2 features{};
  features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  features.pNext = &features12;
  vkGetPhysicalDeviceFeatures2(device, &features);
  if (!coopmat.cooperativeMatrix || !features12.vulkanMemoryModel || !features12.shaderFloat16) return false;
  absl::StatusOr<Instance*> instance = Instance::get();
  if (!instance.ok()) return false;
  auto list = reinterpret_cast<PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV>(
      vkGetInstanceProcAddr((*instance)->handle(), "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV"));
  if (list == nullptr) return false;
  uint32_t count = 0;
  list(device, &count, nullptr);
  std::vector<VkCooperativeMatrixPropertiesNV> shapes(count);
  for (VkCooperativeMatrixPropertiesNV& shape : shapes) shape.sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
  list(device, &count, shapes.data());
  return std::any_of(shapes.begin(), shapes.end(), [](const VkCooperativeMatrixPropertiesNV& s) {
    return s.MSize == 16 && s.NSize == 16 && s.KSize == 16 && s.AType == VK_COMPONENT_TYPE_FLOAT16_NV &&
           s.BType == VK_COMPONENT_TYPE_FLOAT16_NV && s.CType == VK_COMPONENT_TYPE_FLOAT32_NV &&
           s.DType == VK_COMPONENT_TYPE_FLOAT32_NV && s.scope == VK_SCOPE_SUBGROUP_NV;
  });
}

}  // namespace

absl::StatusOr<Instance*> Instance::get() {
  static Instance* instance = nullptr;
  static absl::Status status = [] {
    instance = new Instance();  // kept for the process: see the class comment
    return instance->create();
  }();
  if (!status.ok()) return status;
  return instance;
}

absl::Status Instance::create() {
  std::vector<const char*> layers;
  std::vector<const char*> extensions;
  if (env_flag("KILN_VULKAN_VALIDATION")) {
    if (!has_layer(kValidationLayer)) {
      return absl::FailedPreconditionError(absl::StrCat("KILN_VULKAN_VALIDATION=1 asks for ", kValidationLayer,
                                                        ", which is not installed (Debian: vulkan-validationlayers)"));
    }
    layers.push_back(kValidationLayer);
  }
  const bool debug_utils = has_instance_extension(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  if (debug_utils) extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);

  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "kiln";
  app.pEngineName = "kiln";
  app.apiVersion = VK_API_VERSION_1_2;
  VkInstanceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  info.pApplicationInfo = &app;
  info.enabledLayerCount = static_cast<uint32_t>(layers.size());
  info.ppEnabledLayerNames = layers.data();
  info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
  info.ppEnabledExtensionNames = extensions.data();
  if (VkResult result = vkCreateInstance(&info, nullptr, &instance_); result != VK_SUCCESS) {
    return absl::UnavailableError(
        absl::StrCat("no Vulkan driver: creating a Vulkan 1.2 instance failed with ", vk_result_name(result)));
  }
  if (debug_utils) {
    auto create_messenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
    VkDebugUtilsMessengerCreateInfoEXT messenger{};
    messenger.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
    messenger.messageSeverity =
        VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    messenger.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT;
    messenger.pfnUserCallback = on_message;
    messenger.pUserData = this;
    if (create_messenger != nullptr) create_messenger(instance_, &messenger, nullptr, &messenger_);
  }

  uint32_t count = 0;
  KILN_VK_RETURN_IF_ERROR(vkEnumeratePhysicalDevices(instance_, &count, nullptr), "listing Vulkan devices");
  std::vector<VkPhysicalDevice> all(count);
  KILN_VK_RETURN_IF_ERROR(vkEnumeratePhysicalDevices(instance_, &count, all.data()), "listing Vulkan devices");
  std::vector<VkPhysicalDevice> usable;
  for (VkPhysicalDevice device : all) {
    VkPhysicalDeviceProperties properties;
    vkGetPhysicalDeviceProperties(device, &properties);
    if (properties.apiVersion >= VK_API_VERSION_1_2) usable.push_back(device);
  }
  std::stable_sort(usable.begin(), usable.end(), [](VkPhysicalDevice a, VkPhysicalDevice b) {
    VkPhysicalDeviceProperties pa, pb;
    vkGetPhysicalDeviceProperties(a, &pa);
    vkGetPhysicalDeviceProperties(b, &pb);
    return type_rank(pa.deviceType) < type_rank(pb.deviceType);
  });
  if (const char* chosen = std::getenv("KILN_VULKAN_DEVICE"); chosen != nullptr && *chosen != '\0') {
    uint32_t index = 0;
    if (!absl::SimpleAtoi(chosen, &index) || index >= all.size()) {
      return absl::InvalidArgumentError(absl::StrCat("KILN_VULKAN_DEVICE=", chosen, " is not a device index below ",
                                                     all.size()));
    }
    auto it = std::find(usable.begin(), usable.end(), all[index]);
    if (it == usable.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("KILN_VULKAN_DEVICE=", chosen, " names a device without Vulkan 1.2"));
    }
    std::rotate(usable.begin(), it, it + 1);
  }
  devices_ = std::move(usable);
  return absl::OkStatus();
}

void Instance::add_validation_message(std::string message) {
  std::lock_guard<std::mutex> lock(mutex_);
  messages_.push_back(std::move(message));
}

absl::Status Instance::take_validation_messages() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (messages_.empty()) return absl::OkStatus();
  std::string text = absl::StrCat("Vulkan validation: ", messages_.front());
  if (messages_.size() > 1) absl::StrAppend(&text, " (and ", messages_.size() - 1, " more)");
  messages_.clear();
  return absl::InternalError(text);
}

void describe_device(VkPhysicalDevice device, kiln_capabilities* out) {
  VkPhysicalDeviceSubgroupSizeControlProperties size_control{};
  size_control.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES;
  VkPhysicalDeviceSubgroupProperties subgroup{};
  subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
  VkPhysicalDeviceDriverProperties driver{};
  driver.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
  driver.pNext = &subgroup;
  VkPhysicalDeviceShaderSMBuiltinsPropertiesNV sm{};
  sm.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV;
  const bool has_sm = has_device_extension(device, VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME);
  const bool has_size_control = has_device_extension(device, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
  subgroup.pNext = has_size_control ? &size_control : nullptr;
  if (has_sm) {
    sm.pNext = driver.pNext;
    driver.pNext = &sm;
  }
  VkPhysicalDeviceProperties2 properties{};
  properties.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  properties.pNext = &driver;
  vkGetPhysicalDeviceProperties2(device, &properties);

  VkPhysicalDeviceVulkan12Features features12{};
  features12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  VkPhysicalDeviceVulkan11Features features11{};
  features11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  features11.pNext = &features12;
  VkPhysicalDeviceFeatures2 features{};
  features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  features.pNext = &features11;
  vkGetPhysicalDeviceFeatures2(device, &features);

  VkPhysicalDeviceMemoryProperties memory;
  vkGetPhysicalDeviceMemoryProperties(device, &memory);
  uint64_t device_memory = 0;
  for (uint32_t i = 0; i < memory.memoryHeapCount; ++i) {
    if (memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) device_memory += memory.memoryHeaps[i].size;
  }

  const VkPhysicalDeviceLimits& limits = properties.properties.limits;
  kiln_capabilities caps{};
  caps.struct_size = sizeof caps;
  std::snprintf(caps.device_name, sizeof caps.device_name, "%s", properties.properties.deviceName);
  std::snprintf(caps.driver, sizeof caps.driver, "%.63s %.63s", driver.driverName, driver.driverInfo);
  caps.device_type = kiln_device_type(properties.properties.deviceType);
  caps.compute_units = has_sm ? sm.shaderSMCount : 0;
  caps.device_memory_bytes = device_memory;
  caps.max_buffer_bytes = limits.maxStorageBufferRange;
  caps.max_workgroup_size = limits.maxComputeWorkGroupInvocations;
  caps.shared_memory_bytes = limits.maxComputeSharedMemorySize;
  caps.push_constant_bytes = limits.maxPushConstantsSize;
  caps.storage_offset_alignment = static_cast<uint32_t>(limits.minStorageBufferOffsetAlignment);
  const bool arithmetic = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                          (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
  if (arithmetic) {
    caps.subgroup_size_min = has_size_control ? size_control.minSubgroupSize : subgroup.subgroupSize;
    caps.subgroup_size_max = has_size_control ? size_control.maxSubgroupSize : subgroup.subgroupSize;
  }
  caps.f16_storage = features11.storageBuffer16BitAccess;
  caps.f16_arithmetic = features12.shaderFloat16;
  caps.bf16 = features.features.shaderInt16;  // bf16 is read as 16-bit integers and widened
  caps.cooperative_matrix = has_nv_cooperative_matrix(device, caps.subgroup_size_min, caps.subgroup_size_max) ? 1 : 0;
  caps.timestamps = limits.timestampComputeAndGraphics && limits.timestampPeriod > 0;
  support::copy_fitting(caps, out);
}

}  // namespace kiln::backends::vulkan
