// Fused ops: created only by the fusion passes (passes/fusion_rules.cc), never
// by frontends. Each has a CPU reference kernel and keeps the unfused form as
// its fallback.

#include "ir/op_registry.h"

namespace kiln::ir {

void register_fused_ops(OpRegistry& registry) {}

}  // namespace kiln::ir
