#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ir/dtype.h"
#include "ir/shape.h"
#include "program/program.h"

namespace kiln::passes {

using program::Region;

// Where one value lives: the Program's TensorRef before its symbols become
// step slots.
struct Placement {
  Region region = Region::arena;
  int64_t offset = 0;   // bytes from the start of the region; aligned; 0 for weights
  int32_t weight = -1;  // index into the graph's weights when region == weight
  ir::DType dtype = ir::DType::f32;
  ir::Shape shape;

  bool operator==(const Placement&) const = default;
};

// Where each value lives, as decided by plan-memory. Offsets are bytes,
// aligned to `alignment`; sizes are planned for the symbols' upper bounds.
struct MemoryPlan {
  int64_t alignment = 256;
  int64_t arena_bytes = 0;
  int64_t lower_bound_bytes = 0;  // largest sum of simultaneously live bytes
  int64_t state_bytes = 0;
  // value name -> placement. Weights have Region::weight and their index;
  // views and in-place results share their operand's placement.
  std::map<std::string, Placement> placements;
};

}  // namespace kiln::passes
