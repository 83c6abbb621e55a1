#include "ir/graph.h"

#include <algorithm>
#include <queue>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "ir/op_registry.h"

namespace kiln::ir {

const AttrValue& Node::attr(std::string_view name) const {
  auto it = attrs_.find(std::string(name));
  if (it != attrs_.end()) return it->second;
  for (const AttrSpec& spec : def_->attrs) {
    if (spec.name == name && spec.default_value) return *spec.default_value;
  }
  static const AttrValue kMissing = int64_t{0};
  return kMissing;
}

std::string Node::label() const {
  return outputs_.empty() ? op_ : absl::StrCat("%", outputs_[0]->name(), " = ", op_);
}

absl::Status Graph::declare_symbol(const std::string& name, int64_t bound) {
  if (bound <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("symbol '", name, "': upper bound must be positive, got ", bound));
  }
  auto [it, inserted] = symbols_.emplace(name, bound);
  if (!inserted && it->second != bound) {
    return absl::InvalidArgumentError(absl::StrCat("symbol '", name, "' declared twice with bounds ",
                                                   it->second, " and ", bound));
  }
  return absl::OkStatus();
}

absl::Status Graph::check_new_name(const std::string& name) const {
  if (name.empty()) return absl::InvalidArgumentError("value names must not be empty");
  if (find_value(name) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("value %", name, " is defined twice"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Value*> Graph::add_leaf(const std::string& name, TensorType type, ValueKind kind) {
  if (absl::Status status = check_new_name(name); !status.ok()) return status;
  for (const Dim& dim : type.shape) {
    if (!dim.is_static() && !symbols_.contains(dim.name())) {
      return absl::InvalidArgumentError(absl::StrCat("value %", name, " (", type.to_string(),
                                                     "): symbol '", dim.name(), "' is not declared"));
    }
  }
  auto value = std::make_unique<Value>();
  value->name_ = name;
  value->type_ = std::move(type);
  value->kind_ = kind;
  Value* raw = value.get();
  by_name_[raw->name_] = raw;
  values_.push_back(std::move(value));
  return raw;
}

absl::StatusOr<Value*> Graph::add_input(const std::string& name, TensorType type) {
  absl::StatusOr<Value*> value = add_leaf(name, std::move(type), ValueKind::input);
  if (value.ok()) inputs_.push_back(*value);
  return value;
}

absl::StatusOr<Value*> Graph::add_weight(const std::string& name, TensorType type, WeightData data) {
  absl::StatusOr<Value*> value = add_leaf(name, std::move(type), ValueKind::weight);
  if (!value.ok()) return value;
  (*value)->weight_ = std::move(data);
  weights_.push_back(*value);
  return value;
}

absl::StatusOr<Value*> Graph::add_state(const std::string& name, TensorType type) {
  absl::StatusOr<Value*> value = add_leaf(name, std::move(type), ValueKind::state);
  if (value.ok()) states_.push_back(*value);
  return value;
}

namespace {

absl::Status fill_attributes(const OpDef& def, Attributes& attrs) {
  for (const auto& [name, value] : attrs) {
    const AttrSpec* spec = find_attr_spec(def, name);
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown attribute '", name, "'"));
    }
    if (absl::Status s = check_attribute(*spec, value); !s.ok()) return s;
  }
  for (const AttrSpec& spec : def.attrs) {
    if (attrs.contains(spec.name)) continue;
    if (!spec.default_value) {
      return absl::InvalidArgumentError(absl::StrCat("missing required attribute '", spec.name, "'"));
    }
    attrs.emplace(spec.name, *spec.default_value);
  }
  return absl::OkStatus();
}

absl::Status check_arity(const OpDef& def, size_t count) {
  const bool too_few = static_cast<int>(count) < def.min_inputs;
  const bool too_many = def.max_inputs >= 0 && static_cast<int>(count) > def.max_inputs;
  if (!too_few && !too_many) return absl::OkStatus();
  std::string expected = def.max_inputs < 0 ? absl::StrCat("at least ", def.min_inputs)
                         : def.min_inputs == def.max_inputs
                             ? std::to_string(def.min_inputs)
                             : absl::StrCat(def.min_inputs, " to ", def.max_inputs);
  return absl::InvalidArgumentError(
      absl::StrCat("expected ", expected, " operands, got ", count));
}

}  // namespace

absl::StatusOr<Node*> Graph::add_node(std::string_view op, std::vector<Value*> inputs, Attributes attrs,
                                      std::vector<std::string> names, Node* before) {
  const OpDef* def = find_op(op);
  auto fail = [&](const absl::Status& status) {
    std::string who = names.empty() || names[0].empty() ? std::string(op)
                                                        : absl::StrCat("%", names[0], " = ", std::string(op));
    return absl::Status(status.code(), absl::StrCat(who, ": ", status.message()));
  };
  if (def == nullptr) return fail(absl::NotFoundError("unknown op"));
  if (absl::Status s = check_arity(*def, inputs.size()); !s.ok()) return fail(s);
  if (absl::Status s = fill_attributes(*def, attrs); !s.ok()) return fail(s);
  std::vector<TensorType> input_types;
  for (Value* input : inputs) input_types.push_back(input->type());
  absl::StatusOr<std::vector<TensorType>> types = def->infer({op, input_types, attrs});
  if (!types.ok()) return fail(types.status());
  if (!names.empty() && names.size() != types->size()) {
    return fail(absl::InvalidArgumentError(absl::StrCat("op has ", types->size(), " results, ",
                                                        names.size(), " names were given")));
  }
  names.resize(types->size());
  for (std::string& name : names) {
    if (name.empty()) name = unique_name("");
    if (absl::Status s = check_new_name(name); !s.ok()) return fail(s);
  }

  auto node = std::make_unique<Node>();
  node->op_ = def->name;
  node->def_ = def;
  node->attrs_ = std::move(attrs);
  node->inputs_ = std::move(inputs);
  for (size_t i = 0; i < types->size(); ++i) {
    auto value = std::make_unique<Value>();
    value->name_ = names[i];
    value->type_ = (*types)[i];
    value->producer_ = node.get();
    value->result_index_ = static_cast<int>(i);
    node->outputs_.push_back(value.get());
    by_name_[value->name_] = value.get();
    values_.push_back(std::move(value));
  }
  Node* raw = node.get();
  for (size_t i = 0; i < raw->inputs_.size(); ++i) raw->inputs_[i]->uses_.push_back({raw, static_cast<int>(i)});
  auto position = before == nullptr ? nodes_.end() : nodes_.begin() + node_index(before);
  nodes_.insert(position, std::move(node));
  return raw;
}

void Graph::replace_all_uses(Value* from, Value* to) {
  if (from == to) return;
  for (const Use& use : std::vector<Use>(from->uses_)) set_input(use.node, use.operand, to);
  std::replace(outputs_.begin(), outputs_.end(), from, to);
}

void Graph::set_input(Node* node, int operand, Value* value) {
  Value* old = node->inputs_[operand];
  std::erase(old->uses_, Use{node, operand});
  node->inputs_[operand] = value;
  value->uses_.push_back({node, operand});
}

absl::Status Graph::erase_node(Node* node) {
  for (Value* output : node->outputs_) {
    if (!output->uses_.empty() || is_output(output)) {
      return absl::FailedPreconditionError(
          absl::StrCat(node->label(), ": cannot erase, result %", output->name(), " is still used"));
    }
  }
  for (size_t i = 0; i < node->inputs_.size(); ++i) {
    std::erase(node->inputs_[i]->uses_, Use{node, static_cast<int>(i)});
  }
  for (Value* output : node->outputs_) by_name_.erase(output->name_);
  std::erase_if(values_, [&](const std::unique_ptr<Value>& v) { return v->producer_ == node; });
  std::erase_if(nodes_, [&](const std::unique_ptr<Node>& n) { return n.get() == node; });
  return absl::OkStatus();
}

absl::Status Graph::erase_value(Value* value) {
  if (value->kind_ == ValueKind::result || !value->uses_.empty() || is_output(value)) {
    return absl::FailedPreconditionError(absl::StrCat("cannot erase %", value->name(), ": still used"));
  }
  std::erase(inputs_, value);
  std::erase(weights_, value);
  std::erase(states_, value);
  by_name_.erase(value->name_);
  std::erase_if(values_, [&](const std::unique_ptr<Value>& v) { return v.get() == value; });
  return absl::OkStatus();
}

absl::Status Graph::sort_topologically() {
  std::unordered_map<const Node*, int64_t> pending;
  std::unordered_map<const Node*, int64_t> original;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node* node = nodes_[i].get();
    original[node] = static_cast<int64_t>(i);
    int64_t count = 0;
    for (const Value* input : node->inputs_) count += input->producer_ != nullptr;
    pending[node] = count;
  }
  // Ready nodes leave in their original order, so an already sorted graph
  // keeps its order exactly.
  using Entry = std::pair<int64_t, Node*>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> ready;
  for (const auto& node : nodes_) {
    if (pending[node.get()] == 0) ready.push({original[node.get()], node.get()});
  }
  std::vector<Node*> order;
  while (!ready.empty()) {
    Node* node = ready.top().second;
    ready.pop();
    order.push_back(node);
    for (const Value* output : node->outputs_) {
      for (const Use& use : output->uses_) {
        if (--pending[use.node] == 0) ready.push({original[use.node], use.node});
      }
    }
  }
  if (order.size() != nodes_.size()) {
    for (const auto& node : nodes_) {
      if (pending[node.get()] > 0) {
        return absl::InvalidArgumentError(absl::StrCat(node->label(), ": the graph has a cycle through this node"));
      }
    }
  }
  std::vector<std::unique_ptr<Node>> sorted;
  for (Node* node : order) sorted.push_back(std::move(nodes_[original[node]]));
  nodes_ = std::move(sorted);
  return absl::OkStatus();
}

Value* Graph::find_value(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

bool Graph::is_output(const Value* value) const {
  return std::find(outputs_.begin(), outputs_.end(), value) != outputs_.end();
}

int64_t Graph::node_index(const Node* node) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].get() == node) return static_cast<int64_t>(i);
  }
  return -1;
}

std::string Graph::unique_name(std::string_view hint) {
  if (!hint.empty() && hint[0] == '%') hint.remove_prefix(1);
  if (!hint.empty() && find_value(hint) == nullptr) return std::string(hint);
  for (;;) {
    std::string name = hint.empty() ? std::to_string(next_name_++)
                                    : absl::StrCat(std::string(hint), ".", next_name_++);
    if (find_value(name) == nullptr) return name;
  }
}

}  // namespace kiln::ir
