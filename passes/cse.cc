// cse: a node with the same op, operands and attributes as an earlier node
// computes the same results, so its readers read the earlier node's instead.
// Nodes that read or write state are never merged: the cache changes
// between them. A duplicate whose result is a graph output stays (callers
// bind outputs by name).

#include <algorithm>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "ir/op_registry.h"
#include "passes/builtin_passes.h"
#include "passes/state_effects.h"

namespace kiln::passes {
namespace {

// "add(%a, %b){...}". Operands of a commutative op with equal types are
// sorted, so add(%a, %b) and add(%b, %a) share a key.
std::string key_of(const ir::Node& node) {
  std::vector<std::string> operands;
  for (const ir::Value* input : node.inputs()) operands.push_back(input->name());
  const bool swappable =
      node.def().commutative && node.inputs().size() == 2 && node.input(0)->type() == node.input(1)->type();
  if (swappable) std::sort(operands.begin(), operands.end());
  std::string key = absl::StrCat(node.op(), "(");
  for (const std::string& operand : operands) absl::StrAppend(&key, "%", operand, ",");
  absl::StrAppend(&key, "){");
  for (const auto& [name, value] : node.attrs()) absl::StrAppend(&key, name, "=", ir::attr_to_string(value), ",");
  return key + "}";
}

bool any_output_is_graph_output(const ir::Graph& graph, const ir::Node& node) {
  for (const ir::Value* output : node.outputs()) {
    if (graph.is_output(output)) return true;
  }
  return false;
}

absl::Status eliminate_common_subexpressions(ir::Graph& graph, PassContext&) {
  std::unordered_map<std::string, ir::Node*> first_with_key;
  std::vector<ir::Node*> nodes;
  for (const auto& node : graph.nodes()) nodes.push_back(node.get());
  for (ir::Node* node : nodes) {
    if (touches_state(*node)) continue;
    auto [it, inserted] = first_with_key.emplace(key_of(*node), node);
    if (inserted || any_output_is_graph_output(graph, *node)) continue;
    for (size_t i = 0; i < node->outputs().size(); ++i) {
      graph.replace_all_uses(node->output(static_cast<int>(i)), it->second->output(static_cast<int>(i)));
    }
    if (absl::Status status = graph.erase_node(node); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

PassInfo cse_pass() {
  return {"cse", "merges nodes with the same op, operands and attributes; never state reads or writes",
          eliminate_common_subexpressions};
}

}  // namespace kiln::passes
