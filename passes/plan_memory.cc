// plan-memory: decides where every value lives (memory_planner.h) and leaves
// the plan in the context for schedule. The graph is unchanged. In-place
// decisions and the reasons for refusals go to the explanation stream.

#include <ostream>

#include "passes/builtin_passes.h"
#include "passes/memory_planner.h"

namespace kiln::passes {
namespace {

absl::Status plan_memory_pass_run(ir::Graph& graph, PassContext& context) {
  std::vector<std::string> notes;
  absl::StatusOr<MemoryPlan> plan = plan_memory(graph, {}, &notes);
  if (!plan.ok()) return plan.status();
  if (context.explain != nullptr) {
    for (const std::string& line : notes) *context.explain << "plan-memory: " << line << "\n";
  }
  context.plan = *std::move(plan);
  return absl::OkStatus();
}

}  // namespace

PassInfo plan_memory_pass() {
  return {"plan-memory", "assigns every value an aligned offset in the arena, state region or weight table",
          plan_memory_pass_run};
}

}  // namespace kiln::passes
