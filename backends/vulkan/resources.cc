#include "backends/vulkan/resources.h"

kiln_weights::~kiln_weights() {
  for (kiln_device::Buffer& chunk : chunks) device->destroy_buffer(chunk);
}

kiln_state::~kiln_state() { device->destroy_buffer(buffer); }
