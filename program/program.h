#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "program/dtype.h"

namespace kiln::program {

// The compiler's output and the plugins' only input (DESIGN.md, "Program"):
// memory, step-value slots and a flat dispatch list. It names no op's
// semantics: a backend turns each dispatch's kernel, variant and constants
// into a pipeline or a program without knowing what the op computes. This
// part depends on nothing of the compiler; it crosses the plugin boundary
// as JSON (program_json.h).

// ---- Step values ------------------------------------------------------------

// The values that change between runs of one Program. Slots [0, given) are
// given by the caller on every step (T tokens in this step, P tokens
// already in the KV cache); the slots after them are derived from those:
// value = scale * (sum of the `terms` slots) + bias, e.g. P + T (the valid
// KV rows) or T - 1 (the last row). Derived slots exist only where a
// dispatch reads them.
struct StepSlot {
  std::string name;           // "T", "P", "P+T", "T-1"
  int64_t bound = 0;          // the largest value it takes; given slots: declared, derived: computed
  std::vector<int32_t> terms;  // given slots summed; empty for a given slot
  int64_t scale = 1;
  int64_t bias = 0;

  bool given() const { return terms.empty(); }
  bool operator==(const StepSlot&) const = default;
};

// An extent: a static value, or the value of a step slot.
struct Dim {
  int64_t value = 0;  // the extent when static
  int32_t slot = -1;  // >= 0: the step slot that holds the extent

  static Dim fixed(int64_t value) { return {value, -1}; }
  static Dim of_slot(int32_t slot) { return {0, slot}; }
  bool is_static() const { return slot < 0; }
  bool operator==(const Dim&) const = default;
};
using Shape = std::vector<Dim>;

// ---- Memory -----------------------------------------------------------------

// Where a tensor lives. The arena holds inputs, outputs and intermediates
// and is reused across lifetimes; the state (KV cache) persists between
// runs and is bound by every executable of a session; the weights region is
// read-only and may be split into chunks, each within the device's largest
// buffer.
enum class Region : uint8_t { arena, state, weight };
std::string_view region_name(Region region);

struct TensorRef {
  Region region = Region::arena;
  int64_t offset = 0;   // bytes from the start of the arena or the state; 0 for a weight
  int32_t weight = -1;  // index into Program::weights when region == weight
  DType dtype = DType::f32;
  Shape shape;

  bool operator==(const TensorRef&) const = default;
};

// A named tensor at a fixed place: a graph input, output or state.
struct Binding {
  std::string name;
  TensorRef ref;

  bool operator==(const Binding&) const = default;
};

// One weight, imported by its index and placed at `offset` bytes in weight
// chunk `chunk`. Offsets are multiples of Program::alignment.
struct WeightEntry {
  std::string name;
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
  int64_t bytes = 0;
  int32_t chunk = 0;
  int64_t offset = 0;
  std::string source;  // the file and tensor the bytes come from, for messages

  bool operator==(const WeightEntry&) const = default;
};

// ---- Dispatches -------------------------------------------------------------

// A typed scalar a backend bakes into the kernel (a specialisation constant,
// a -D define). Enumerations are integers; `symbol` keeps the name the op
// registry's schema gives that integer ("tanh"), for people and messages.
struct Constant {
  enum class Type : uint8_t { boolean, integer, real };

  std::string name;
  Type type = Type::integer;
  int64_t integer = 0;  // boolean (0 or 1) and integer
  double real = 0;
  std::string symbol;  // enumerations only

  bool operator==(const Constant&) const = default;
};
std::string_view constant_type_name(Constant::Type type);

// A kernel parameter that changes per step (rows = T, kv_rows = P + T): the
// kernel reads step slot `slot`.
struct StepParam {
  std::string name;
  int32_t slot = 0;

  bool operator==(const StepParam&) const = default;
};

struct Dispatch {
  std::string kernel;   // the op: "matmul", "rmsnorm", "fused_gate_up", ...
  std::string variant;  // from the target backend's variant table: "reference", "gemv_subgroup"
  std::string node;     // the first result's name, for messages
  // The op's attributes and the static kernel parameters its registry entry
  // derives (M, N, K, rows, heads, kv_heads, head_dim, ...), sorted by name,
  // every one present (defaults filled in).
  std::vector<Constant> constants;
  // The parameters that depend on step values, sorted by name.
  std::vector<StepParam> step_params;
  std::vector<TensorRef> inputs;
  std::vector<TensorRef> outputs;
  // The elements the kernel computes, outermost first: kv_write's is
  // [T, kv_heads, head_dim] (the rows written, at row P), not the cache.
  Shape launch;
  // Earlier dispatches (indices, ascending) whose memory this one touches
  // in a conflicting way: it reads what they wrote, or writes what they read
  // or wrote. A backend that may overlap dispatches orders this one after
  // them; an in-order queue may ignore the list.
  std::vector<int32_t> after;

  const Constant* find_constant(std::string_view name) const;
  bool operator==(const Dispatch&) const = default;
};

struct Program {
  int64_t alignment = 256;              // of every arena, state and weight offset, bytes
  int64_t arena_bytes = 0;              // planned for the slots' bounds
  int64_t arena_lower_bound_bytes = 0;  // largest sum of simultaneously live bytes
  int64_t state_bytes = 0;
  std::vector<StepSlot> slots;          // the given slots first
  std::vector<int64_t> weight_chunks;   // bytes of each weight chunk
  std::vector<WeightEntry> weights;
  std::vector<Binding> states;
  std::vector<Binding> inputs;
  std::vector<Binding> outputs;
  std::vector<Dispatch> dispatches;

  // Slots the caller gives on every step: the leading run of given slots.
  int32_t given_slots() const;
  // The slot named `name`, or -1.
  int32_t find_slot(std::string_view name) const;
  int32_t find_input(std::string_view name) const;
  int32_t find_output(std::string_view name) const;

  // Field by field; a NaN constant makes two Programs unequal, as in IEEE.
  bool operator==(const Program&) const = default;
};

}  // namespace kiln::program
