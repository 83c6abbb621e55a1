#include "passes/state_effects.h"

#include "ir/op_registry.h"

namespace kiln::passes {

bool is_state_storage(const ir::Value& value) {
  const ir::Value* current = &value;
  while (current->producer() != nullptr) {
    const int aliased = current->producer()->def().aliases_operand;
    if (aliased < 0 || current->result_index() != 0) return false;
    current = current->producer()->input(aliased);
  }
  return current->kind() == ir::ValueKind::state;
}

bool writes_state(const ir::Node& node) {
  const int aliased = node.def().aliases_operand;
  return aliased >= 0 && is_state_storage(*node.input(aliased));
}

bool touches_state(const ir::Node& node) {
  for (const ir::Value* input : node.inputs()) {
    if (is_state_storage(*input)) return true;
  }
  return false;
}

}  // namespace kiln::passes
