#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "passes/program.h"

namespace kiln::passes {

// Where each value lives, as decided by plan-memory. Offsets are bytes,
// aligned to `alignment`; sizes are planned for the symbols' upper bounds.
struct MemoryPlan {
  int64_t alignment = 256;
  int64_t arena_bytes = 0;
  int64_t lower_bound_bytes = 0;  // largest sum of simultaneously live bytes
  int64_t state_bytes = 0;
  // value name -> placement. Weights have Region::weight and their index;
  // views and in-place results share their operand's placement.
  std::map<std::string, TensorRef> placements;
};

}  // namespace kiln::passes
