// schedule: turns the graph and plan-memory's plan into the Program
// (scheduler.h) and leaves it in the context. The graph is unchanged.

#include "passes/builtin_passes.h"
#include "passes/scheduler.h"

namespace kiln::passes {
namespace {

absl::Status schedule(ir::Graph& graph, PassContext& context) {
  if (!context.plan) return absl::FailedPreconditionError("no memory plan: run plan-memory before schedule");
  absl::StatusOr<program::Program> program = schedule_program(graph, *context.plan, context.target);
  if (!program.ok()) return program.status();
  context.program = *std::move(program);
  return absl::OkStatus();
}

}  // namespace

PassInfo schedule_pass() {
  return {"schedule", "emits the Program: weight, state, input and output tables and one dispatch per kernel",
          schedule};
}

}  // namespace kiln::passes
