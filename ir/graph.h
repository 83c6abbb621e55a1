#pragma once

#include <memory>
#include <unordered_map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/attributes.h"
#include "ir/shape.h"

namespace kiln::ir {

class Node;
struct OpDef;

// Bytes of a constant tensor, owned elsewhere (usually a memory-mapped model
// file) and kept alive by `owner`. The graph never copies weight bytes.
struct WeightData {
  std::shared_ptr<const void> owner;
  const uint8_t* bytes = nullptr;
  size_t size = 0;
  std::string source;  // where the bytes came from, for messages: "model.gguf:token_embd.weight"
};

enum class ValueKind : uint8_t {
  input,   // written by the caller before each run
  weight,  // constant, uploaded once
  state,   // persists between runs (the KV cache); never reused by the planner
  result,  // produced by a node
};

struct Use {
  Node* node;
  int operand;
  bool operator==(const Use&) const = default;
};

class Value {
 public:
  const std::string& name() const { return name_; }
  const TensorType& type() const { return type_; }
  ValueKind kind() const { return kind_; }
  Node* producer() const { return producer_; }  // null unless kind() == result
  int result_index() const { return result_index_; }
  const std::vector<Use>& uses() const { return uses_; }
  const WeightData& weight() const { return weight_; }

  void set_type(TensorType type) { type_ = std::move(type); }
  void set_weight(WeightData weight) { weight_ = std::move(weight); }

 private:
  friend class Graph;
  std::string name_;
  TensorType type_;
  ValueKind kind_ = ValueKind::result;
  Node* producer_ = nullptr;
  int result_index_ = 0;
  std::vector<Use> uses_;
  WeightData weight_;
};

class Node {
 public:
  const std::string& op() const { return op_; }
  const OpDef& def() const { return *def_; }
  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  Value* input(int i) const { return inputs_[i]; }
  Value* output(int i = 0) const { return outputs_[i]; }
  const Attributes& attrs() const { return attrs_; }
  // The attribute or its schema default; the verifier guarantees presence and
  // type for every attribute the schema declares.
  const AttrValue& attr(std::string_view name) const;
  int64_t attr_int(std::string_view name) const { return std::get<int64_t>(attr(name)); }
  double attr_real(std::string_view name) const { return std::get<double>(attr(name)); }
  bool attr_bool(std::string_view name) const { return std::get<bool>(attr(name)); }
  const std::string& attr_string(std::string_view name) const { return std::get<std::string>(attr(name)); }
  // "%y = matmul" for messages.
  std::string label() const;

 private:
  friend class Graph;
  std::string op_;
  const OpDef* def_ = nullptr;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  Attributes attrs_;
};

// An SSA op graph. Nodes are kept in program order (every operand is defined
// before its use); values are owned by the graph and carry their use lists.
// Not thread-safe.
class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&&) = default;
  Graph& operator=(Graph&&) = default;

  // Symbols with their declared upper bounds, in declaration order.
  absl::Status declare_symbol(const std::string& name, int64_t bound);
  const SymbolValues& symbol_bounds() const { return symbols_; }

  absl::StatusOr<Value*> add_input(const std::string& name, TensorType type);
  absl::StatusOr<Value*> add_weight(const std::string& name, TensorType type, WeightData data = {});
  absl::StatusOr<Value*> add_state(const std::string& name, TensorType type);

  // Creates a node after the last node (or before `before`), fills schema
  // defaults into `attrs`, infers its result types and names its results
  // (`names` may be empty or give one name per result; empty names are
  // generated).
  absl::StatusOr<Node*> add_node(std::string_view op, std::vector<Value*> inputs, Attributes attrs = {},
                                 std::vector<std::string> names = {}, Node* before = nullptr);

  void set_outputs(std::vector<Value*> outputs) { outputs_ = std::move(outputs); }
  const std::vector<Value*>& outputs() const { return outputs_; }

  // Every use of `from` (node operands and graph outputs) now reads `to`.
  void replace_all_uses(Value* from, Value* to);
  void set_input(Node* node, int operand, Value* value);
  // Removes `node`; its results must have no uses and not be graph outputs.
  absl::Status erase_node(Node* node);
  // Removes an input, weight or state value that nothing uses.
  absl::Status erase_value(Value* value);

  // Re-establishes program order after rewrites, keeping the existing
  // relative order wherever dependencies allow. Fails on a cycle, naming a
  // node on it.
  absl::Status sort_topologically();

  std::span<const std::unique_ptr<Node>> nodes() const { return nodes_; }
  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& weights() const { return weights_; }
  const std::vector<Value*>& states() const { return states_; }
  Value* find_value(std::string_view name) const;
  bool is_output(const Value* value) const;
  int64_t node_index(const Node* node) const;  // position in program order

  // A name not yet used in the graph, from `hint` ("%h" -> "h", "h.1", ...).
  std::string unique_name(std::string_view hint);

 private:
  absl::StatusOr<Value*> add_leaf(const std::string& name, TensorType type, ValueKind kind);
  absl::Status check_new_name(const std::string& name) const;

  SymbolValues symbols_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Value>> values_;
  std::unordered_map<std::string, Value*> by_name_;
  std::vector<Value*> inputs_, weights_, states_, outputs_;
  int64_t next_name_ = 0;
};

}  // namespace kiln::ir
