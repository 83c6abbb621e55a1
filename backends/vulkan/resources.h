#pragma once

#include <vector>

#include "backends/vulkan/device.h"
#include "program/program.h"

// A Program's weight chunks, each a device-local buffer within the device's
// maxStorageBufferRange, filled by import_weight through the device's
// staging buffer. Bound by every executable whose Program has the same
// weight table.
struct kiln_weights {
  kiln_device* device = nullptr;
  kiln::program::Program program;  // the Program it was made for (its weight table)
  std::vector<kiln_device::Buffer> chunks;
  std::vector<bool> imported;  // per weight entry

  ~kiln_weights();
};

// A Program's state (the KV cache): one zero-filled device-local buffer.
struct kiln_state {
  kiln_device* device = nullptr;
  kiln::program::Program program;
  kiln_device::Buffer buffer;

  ~kiln_state();
};
