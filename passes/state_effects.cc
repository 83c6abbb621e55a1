#include "passes/state_effects.h"

#include "ir/op_registry.h"

namespace kiln::passes {

bool is_state_storage(const ir::Value& value) {
  const ir::Value* current = &value;
  while (current->producer() != nullptr) {
    const int aliased = current->producer()->def().aliased_operand(current->result_index());
    if (aliased < 0) return false;
    current = current->producer()->input(aliased);
  }
  return current->kind() == ir::ValueKind::state;
}

bool writes_state(const ir::Node& node) {
  for (int r = 0; r < static_cast<int>(node.outputs().size()); ++r) {
    const int aliased = node.def().aliased_operand(r);
    if (aliased >= 0 && is_state_storage(*node.input(aliased))) return true;
  }
  return false;
}

bool touches_state(const ir::Node& node) {
  for (const ir::Value* input : node.inputs()) {
    if (is_state_storage(*input)) return true;
  }
  return false;
}

}  // namespace kiln::passes
