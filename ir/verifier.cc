#include "ir/verifier.h"

#include <algorithm>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "ir/op_registry.h"

namespace kiln::ir {
namespace {

absl::Status error(const Node& node, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(node.label(), ": ", rule));
}

absl::Status verify_symbols(const Graph& graph, const Value& value) {
  for (const Dim& dim : value.type().shape) {
    if (!dim.is_static() && !graph.symbol_bounds().contains(dim.name())) {
      return absl::InvalidArgumentError(absl::StrCat("%", value.name(), " (", value.type().to_string(),
                                                     "): symbol '", dim.name(), "' is not declared"));
    }
  }
  return absl::OkStatus();
}

absl::Status verify_attributes(const Node& node) {
  for (const auto& [name, value] : node.attrs()) {
    const AttrSpec* spec = find_attr_spec(node.def(), name);
    if (spec == nullptr) return error(node, absl::StrCat("unknown attribute '", name, "'"));
    if (absl::Status s = check_attribute(*spec, value); !s.ok()) return error(node, s.message());
  }
  for (const AttrSpec& spec : node.def().attrs) {
    if (!node.attrs().contains(spec.name)) return error(node, absl::StrCat("missing attribute '", spec.name, "'"));
  }
  return absl::OkStatus();
}

absl::Status verify_types(const Node& node) {
  std::vector<TensorType> inputs;
  for (const Value* input : node.inputs()) inputs.push_back(input->type());
  absl::StatusOr<std::vector<TensorType>> types = node.def().infer({node.op(), inputs, node.attrs()});
  if (!types.ok()) return error(node, types.status().message());
  if (types->size() != node.outputs().size()) {
    return error(node, absl::StrCat("has ", node.outputs().size(), " results, its op gives ", types->size()));
  }
  for (size_t i = 0; i < types->size(); ++i) {
    const Value& out = *node.output(static_cast<int>(i));
    if (!(out.type() == (*types)[i])) {
      return error(node, absl::StrCat("result %", out.name(), " has type ", out.type().to_string(),
                                      " but its operands give ", (*types)[i].to_string()));
    }
  }
  return absl::OkStatus();
}

absl::Status verify_uses(const Value& value) {
  for (const Use& use : value.uses()) {
    if (use.operand >= static_cast<int>(use.node->inputs().size()) || use.node->input(use.operand) != &value) {
      return absl::InternalError(absl::StrCat("%", value.name(), ": use list names ", use.node->label(),
                                              " operand ", use.operand, ", which reads another value"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status verify(const Graph& graph) {
  std::unordered_set<const Value*> defined;
  for (const auto* leaves : {&graph.inputs(), &graph.weights(), &graph.states()}) {
    for (const Value* value : *leaves) {
      if (absl::Status s = verify_symbols(graph, *value); !s.ok()) return s;
      if (absl::Status s = verify_uses(*value); !s.ok()) return s;
      defined.insert(value);
    }
  }
  for (const auto& node : graph.nodes()) {
    for (size_t i = 0; i < node->inputs().size(); ++i) {
      const Value* input = node->input(static_cast<int>(i));
      if (!defined.contains(input)) {
        return error(*node, absl::StrCat("operand %", input->name(), " is used before it is defined"));
      }
      const auto& uses = input->uses();
      if (std::find(uses.begin(), uses.end(), Use{node.get(), static_cast<int>(i)}) == uses.end()) {
        return absl::InternalError(absl::StrCat(node->label(), ": %", input->name(), "'s use list misses this node"));
      }
    }
    if (absl::Status s = verify_attributes(*node); !s.ok()) return s;
    if (absl::Status s = verify_types(*node); !s.ok()) return s;
    for (const Value* output : node->outputs()) {
      if (absl::Status s = verify_symbols(graph, *output); !s.ok()) return s;
      if (absl::Status s = verify_uses(*output); !s.ok()) return s;
      defined.insert(output);
    }
  }
  for (const Value* output : graph.outputs()) {
    if (!defined.contains(output)) {
      return absl::InvalidArgumentError(absl::StrCat("graph output %", output->name(), " is not defined"));
    }
  }
  return absl::OkStatus();
}

}  // namespace kiln::ir
