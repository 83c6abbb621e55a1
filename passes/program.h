#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/attributes.h"
#include "ir/shape.h"

namespace kiln::passes {

// The compiler's output: a plain description of memory and dispatches that
// every backend derives all its work from (DESIGN.md, "Program"). It crosses
// the plugin boundary as JSON (program_json.h).

// Where a tensor lives. The arena holds inputs, outputs and intermediates and
// is reused across lifetimes; the state region (KV cache) persists between
// runs and is shared by the executables of one session; each weight is its
// own buffer, uploaded once.
enum class Region : uint8_t { arena, state, weight };

struct TensorRef {
  Region region = Region::arena;
  int64_t offset = 0;  // bytes from the start of the region; aligned; 0 for weights
  int32_t weight = -1; // index into Program::weights when region == weight
  ir::DType dtype = ir::DType::f32;
  ir::Shape shape;     // symbolic dims are evaluated from the step uniforms

  bool operator==(const TensorRef&) const = default;
};

struct Dispatch {
  std::string kernel;   // the op: "matmul", "rmsnorm", "fused_ffn", ...
  std::string variant;  // chosen from the backend's variant table; "" until then
  std::string node;     // the first result's name, for messages
  // Compile-time values: the op's attributes (specialisation constants in
  // Vulkan, -D defines in OpenCL). Static dims are read from the tensor refs.
  ir::Attributes constants;
  std::vector<TensorRef> inputs;
  std::vector<TensorRef> outputs;
  ir::Shape work_size;                // the first output's shape; may be symbolic
  std::vector<std::string> uniforms;  // step symbols this dispatch reads

  bool operator==(const Dispatch&) const = default;
};

// A named tensor at a fixed place: a graph input, output or state.
struct Binding {
  std::string name;
  TensorRef ref;

  bool operator==(const Binding&) const = default;
};

struct WeightEntry {
  std::string name;
  ir::DType dtype = ir::DType::f32;
  ir::Shape shape;  // always static
  int64_t bytes = 0;
  std::string source;  // file and tensor the bytes come from, for messages

  bool operator==(const WeightEntry&) const = default;
};

struct Program {
  int64_t alignment = 256;               // of every arena and state offset, bytes
  int64_t arena_bytes = 0;               // planned for the symbols' upper bounds
  int64_t arena_lower_bound_bytes = 0;   // largest sum of simultaneously live bytes
  int64_t state_bytes = 0;
  ir::SymbolValues symbols;              // name -> declared upper bound
  std::vector<WeightEntry> weights;
  std::vector<Binding> states;
  std::vector<Binding> inputs;
  std::vector<Binding> outputs;
  std::vector<Dispatch> dispatches;

  // Field by field; a NaN constant makes two Programs unequal, as in IEEE.
  bool operator==(const Program&) const = default;
};

std::string_view region_name(Region region);

}  // namespace kiln::passes
