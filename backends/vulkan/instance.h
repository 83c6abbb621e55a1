#pragma once

#include <mutex>
#include <string>
#include <vector>

#include <vulkan/vulkan.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"

namespace kiln::backends::vulkan {

// The process's one VkInstance (Vulkan 1.2), created on first use and kept
// for the life of the process: probe lists devices through it without
// creating a VkDevice, and every device is opened from it.
//
// Validation: KILN_VULKAN_VALIDATION=1 enables VK_LAYER_KHRONOS_validation
// (an error when it is not installed); the layer may also come from
// VK_INSTANCE_LAYERS. Either way a debug-utils messenger collects every
// validation warning and error, and each plugin entry fails with the first
// of them (take_validation_messages), so a test sees any message as an
// error.
class Instance {
 public:
  // Thread-safe; fails with Unavailable when there is no Vulkan driver.
  static absl::StatusOr<Instance*> get();

  VkInstance handle() const { return instance_; }
  // Devices that support Vulkan 1.2, in probe order: discrete GPUs first,
  // else the driver's order; KILN_VULKAN_DEVICE=i puts the driver's device i
  // first.
  const std::vector<VkPhysicalDevice>& devices() const { return devices_; }

  // OkStatus, or an Internal error with the validation messages received
  // since the last call.
  absl::Status take_validation_messages();
  void add_validation_message(std::string message);

 private:
  Instance() = default;
  absl::Status create();

  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  std::vector<VkPhysicalDevice> devices_;
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

// Fills |out| (its struct_size set by the caller) with what |device| offers.
void describe_device(VkPhysicalDevice device, kiln_capabilities* out);

}  // namespace kiln::backends::vulkan
