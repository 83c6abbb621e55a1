#pragma once

#include <string>

#include <vulkan/vulkan.h>

#include "absl/status/status.h"

namespace kiln::backends::vulkan {

// The status for a failed Vulkan call: `what` names what was asked for
// ("allocating the arena (512 MiB of device-local memory)"). Out of device
// or host memory is ResourceExhausted, a lost device Unavailable, a missing
// feature or extension FailedPrecondition.
absl::Status vk_status(VkResult result, const std::string& what);

const char* vk_result_name(VkResult result);

}  // namespace kiln::backends::vulkan

// Returns from the enclosing function (which returns absl::Status or
// StatusOr) when `call` fails.
#define KILN_VK_RETURN_IF_ERROR(call, what)                                      \
  do {                                                                           \
    if (VkResult kiln_vk_result = (call); kiln_vk_result != VK_SUCCESS) {        \
      return ::kiln::backends::vulkan::vk_status(kiln_vk_result, (what));        \
    }                                                                            \
  } while (false)
