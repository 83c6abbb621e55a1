// canonicalize: local simplifications that leave one canonical form for
// later passes (CSE, fusion patterns) to match. Rules are rows of one table,
// tried in order on every node until none applies; the first that matches a
// node wins.
//
// A rule never renames a graph output: callers bind outputs by name, so a
// rule that would replace an output with another value leaves it alone.

#include "ir/op_registry.h"
#include "passes/builtin_passes.h"
#include "passes/state_effects.h"

namespace kiln::passes {
namespace {

// Rewrites the graph around `node` and returns true, or returns false and
// changes nothing.
using RewriteFn = bool (*)(ir::Graph& graph, ir::Node& node);

struct Rule {
  const char* name;
  const char* root_op;  // the op of the node the pattern starts from
  RewriteFn rewrite;
};

bool same_type(const ir::Value* a, const ir::Value* b) { return a->type() == b->type(); }

// Replaces `node`'s only result by `replacement` everywhere and erases the
// node; refuses when the result is a graph output.
bool forward_to(ir::Graph& graph, ir::Node& node, ir::Value* replacement) {
  if (graph.is_output(node.output())) return false;
  graph.replace_all_uses(node.output(), replacement);
  return graph.erase_node(&node).ok();
}

// The producer of `value` when it is a node of op `op`; null otherwise.
ir::Node* producer_of(const ir::Value* value, std::string_view op) {
  ir::Node* producer = value->producer();
  return producer != nullptr && producer->op() == op ? producer : nullptr;
}

// True when `node` would infer the same result type if operand `operand`
// read `value` instead.
bool result_type_unchanged_with(const ir::Node& node, int operand, const ir::Value* value) {
  std::vector<ir::TensorType> types;
  for (const ir::Value* input : node.inputs()) types.push_back(input->type());
  types[operand] = value->type();
  absl::StatusOr<std::vector<ir::TensorType>> inferred = node.def().infer({node.op(), types, node.attrs()});
  return inferred.ok() && inferred->size() == 1 && (*inferred)[0] == node.output()->type();
}

void erase_if_unused(ir::Graph& graph, ir::Node* node) {
  if (node == nullptr || writes_state(*node)) return;
  for (const ir::Value* output : node->outputs()) {
    if (!output->uses().empty() || graph.is_output(output)) return;
  }
  (void)graph.erase_node(node);  // cannot fail: nothing reads it
}

// scale(x, 1.0) -> x
bool scale_by_one(ir::Graph& graph, ir::Node& node) {
  return node.attr_real("scale") == 1.0 && forward_to(graph, node, node.input(0));
}

// reshape(x : S, S) -> x
bool reshape_to_same_shape(ir::Graph& graph, ir::Node& node) {
  return same_type(node.input(0), node.output()) && forward_to(graph, node, node.input(0));
}

// reshape(reshape(x, S1), S2) -> reshape(x, S2)
bool reshape_of_reshape(ir::Graph& graph, ir::Node& node) {
  ir::Node* inner = producer_of(node.input(0), "reshape");
  if (inner == nullptr || !result_type_unchanged_with(node, 0, inner->input(0))) return false;
  graph.set_input(&node, 0, inner->input(0));
  erase_if_unused(graph, inner);
  return true;
}

bool is_identity(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

// transpose(x, [0, 1, ..., n-1]) -> x
bool identity_transpose(ir::Graph& graph, ir::Node& node) {
  return is_identity(std::get<std::vector<int64_t>>(node.attr("perm"))) && forward_to(graph, node, node.input(0));
}

// transpose(transpose(x, p), q) -> x   when p[q[i]] == i for every i
bool transposes_that_cancel(ir::Graph& graph, ir::Node& node) {
  ir::Node* inner = producer_of(node.input(0), "transpose");
  if (inner == nullptr) return false;
  const auto& p = std::get<std::vector<int64_t>>(inner->attr("perm"));
  const auto& q = std::get<std::vector<int64_t>>(node.attr("perm"));
  for (size_t i = 0; i < q.size(); ++i) {
    if (p[q[i]] != static_cast<int64_t>(i)) return false;
  }
  if (!forward_to(graph, node, inner->input(0))) return false;
  erase_if_unused(graph, inner);
  return true;
}

// slice(x, axis, 0, 0) -> x   (the whole axis)
bool whole_slice(ir::Graph& graph, ir::Node& node) {
  return same_type(node.input(0), node.output()) && forward_to(graph, node, node.input(0));
}

// concat(x) -> x
bool concat_of_one(ir::Graph& graph, ir::Node& node) {
  return node.inputs().size() == 1 && forward_to(graph, node, node.input(0));
}

// op(w, x) -> op(x, w)   for commutative op, weight w, non-weight x, equal types
// Constants go second, as in MLIR, so patterns and CSE see one order. (A
// broadcast operand is always second already: inference requires it.)
bool weight_operand_second(ir::Graph& graph, ir::Node& node) {
  if (!node.def().commutative || node.inputs().size() != 2) return false;
  ir::Value* a = node.input(0);
  ir::Value* b = node.input(1);
  const bool swap = a->kind() == ir::ValueKind::weight && b->kind() != ir::ValueKind::weight && same_type(a, b);
  if (!swap) return false;
  graph.set_input(&node, 0, b);
  graph.set_input(&node, 1, a);
  return true;
}

// Order within one root op is priority: removing a node beats rewiring it.
// `weight_operand_second` runs on any root op, so it comes last.
const Rule kRules[] = {
    {"scale_by_one", "scale", scale_by_one},
    {"reshape_to_same_shape", "reshape", reshape_to_same_shape},
    {"reshape_of_reshape", "reshape", reshape_of_reshape},
    {"identity_transpose", "transpose", identity_transpose},
    {"transposes_that_cancel", "transpose", transposes_that_cancel},
    {"whole_slice", "slice", whole_slice},
    {"concat_of_one", "concat", concat_of_one},
    {"weight_operand_second", "", weight_operand_second},
};

bool apply_first_matching_rule(ir::Graph& graph, ir::Node& node) {
  for (const Rule& rule : kRules) {
    if (*rule.root_op != '\0' && node.op() != rule.root_op) continue;
    if (rule.rewrite(graph, node)) return true;
  }
  return false;
}

// Bounds the sweeps. Every rule removes a node, shortens a reshape chain or
// moves a weight right, and a sweep visits producers before readers, so
// graphs settle in a few sweeps.
constexpr int kMaxSweeps = 64;

absl::Status canonicalize(ir::Graph& graph, PassContext&) {
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    std::vector<ir::Node*> nodes;
    for (const auto& node : graph.nodes()) nodes.push_back(node.get());
    // A rule erases only its root and nodes before it, so the nodes still
    // to visit in this sweep stay valid.
    bool changed = false;
    for (ir::Node* node : nodes) changed |= apply_first_matching_rule(graph, *node);
    if (!changed) return absl::OkStatus();
  }
  return absl::InternalError("rules did not settle after 64 sweeps");
}

}  // namespace

PassInfo canonicalize_pass() {
  return {"canonicalize", "local simplifications (scale by 1, reshape chains, cancelling transposes, ...)",
          canonicalize};
}

}  // namespace kiln::passes
