// dce: removes nodes whose results reach no graph output, then weights that
// nothing reads. A node that writes persistent state (its result aliases a
// state value, as kv_write's does) is live even when its result is unused:
// the next run reads the cache it wrote. Graph inputs and states are never
// removed; the caller writes and binds them.

#include <unordered_set>
#include <vector>

#include "passes/builtin_passes.h"
#include "passes/state_effects.h"

namespace kiln::passes {
namespace {

bool is_live(const ir::Graph& graph, const ir::Node& node, const std::unordered_set<const ir::Node*>& live) {
  if (writes_state(node)) return true;
  for (const ir::Value* output : node.outputs()) {
    if (graph.is_output(output)) return true;
    for (const ir::Use& use : output->uses()) {
      if (live.contains(use.node)) return true;
    }
  }
  return false;
}

absl::Status eliminate_dead_code(ir::Graph& graph, PassContext&) {
  // Every use follows its definition, so one backward sweep sees each
  // node's users decided before the node itself.
  std::unordered_set<const ir::Node*> live;
  std::vector<ir::Node*> dead;
  const auto nodes = graph.nodes();
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    if (is_live(graph, **it, live)) {
      live.insert(it->get());
    } else {
      dead.push_back(it->get());
    }
  }
  for (ir::Node* node : dead) {
    if (absl::Status status = graph.erase_node(node); !status.ok()) return status;
  }
  for (ir::Value* weight : std::vector<ir::Value*>(graph.weights())) {
    if (!weight->uses().empty() || graph.is_output(weight)) continue;
    if (absl::Status status = graph.erase_value(weight); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

PassInfo dce_pass() {
  return {"dce", "removes nodes that reach no output and weights nothing reads; keeps state writes",
          eliminate_dead_code};
}

}  // namespace kiln::passes
