// infer-shapes: re-derives every node's result types, in program order, from
// its operands' current types. Run it after changing a leaf's type (a new
// bound, another dtype) or after a rewrite that left types stale; symbolic
// dims stay symbolic.

#include "absl/strings/str_cat.h"
#include "ir/op_registry.h"
#include "passes/builtin_passes.h"

namespace kiln::passes {
namespace {

absl::Status infer_node(ir::Node& node) {
  std::vector<ir::TensorType> operand_types;
  for (const ir::Value* input : node.inputs()) operand_types.push_back(input->type());
  absl::StatusOr<std::vector<ir::TensorType>> types = node.def().infer({node.op(), operand_types, node.attrs()});
  if (!types.ok()) {
    return absl::Status(types.status().code(), absl::StrCat(node.label(), ": ", types.status().message()));
  }
  if (types->size() != node.outputs().size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(node.label(), ": has ", node.outputs().size(), " results, its op gives ", types->size()));
  }
  for (size_t i = 0; i < types->size(); ++i) node.output(static_cast<int>(i))->set_type((*types)[i]);
  return absl::OkStatus();
}

absl::Status infer_shapes(ir::Graph& graph, PassContext&) {
  for (const auto& node : graph.nodes()) {
    if (absl::Status status = infer_node(*node); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

PassInfo infer_shapes_pass() {
  return {"infer-shapes", "re-infers every result type from its operands, in program order", infer_shapes};
}

}  // namespace kiln::passes
