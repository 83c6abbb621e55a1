#pragma once

// Internal to the JSON graph reader (graph_json.cc): the entries of
// "nodes", each read on its own, then put in dependency order.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "frontend/graph_json_document.h"
#include "ir/attributes.h"
#include "ir/op_registry.h"

namespace kiln::frontend::graph_json {

struct NodeEntry {
  size_t index = 0;  // position in "nodes"
  const ir::OpDef* def = nullptr;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  ir::Attributes attrs;  // coerced to the op's schema; defaults not yet filled
  std::string label;     // "nodes[2]: %h = matmul", the prefix of its messages
};

// Reads node `index`: a registered, non-fused op; value names; attributes
// typed by the op's schema (a JSON number becomes an int or a real as the
// schema says; a shape attribute takes integers and declared symbol names).
// Arity, required attributes and shapes are left to ir::Graph::add_node.
absl::StatusOr<NodeEntry> read_node(const Json& node, size_t index, const ir::SymbolValues& symbols);

// `nodes` in an order where each node comes after the producers of its
// inputs, keeping file order wherever dependencies allow. `leaves` maps the
// name of every input, weight and state to its kind ("an input", "a
// weight", "a state"). Fails, naming the node, when a result name is
// already taken, an input names no value, or nodes depend on each other in
// a cycle (naming the nodes on it).
absl::StatusOr<std::vector<const NodeEntry*>> order_nodes(const std::vector<NodeEntry>& nodes,
                                                          const std::map<std::string, std::string>& leaves);

}  // namespace kiln::frontend::graph_json
