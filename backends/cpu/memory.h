#pragma once

#include <cstdint>
#include <vector>

#include "backends/cpu/host_buffer.h"
#include "program/program.h"

namespace kiln::backends::cpu {

// A Program's weights, read in place: each entry points at the bytes the
// host imported (a memory-mapped file), which the host keeps alive and
// unchanged until the weights are destroyed. Nothing is copied.
struct Weights {
  program::Program made_for;  // its weight table is what binds to it
  std::vector<const uint8_t*> data;  // per weight; null until imported
};

// A Program's state (the KV cache): one zero-filled host block.
struct State {
  program::Program made_for;  // its state table is what binds to it
  HostBuffer buffer;
};

}  // namespace kiln::backends::cpu
