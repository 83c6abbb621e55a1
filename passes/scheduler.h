#pragma once

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "passes/memory_plan.h"
#include "passes/program.h"

namespace kiln::passes {

// Emits the Program for `graph` placed by `plan` (from plan_memory on the
// same graph): the weight, state, input and output tables, and one dispatch
// per node in program order, except views (reshape), which run no kernel;
// their readers address the viewed storage with the view's own shape.
// A dispatch's uniforms are the symbols in its operand and result shapes plus
// the step symbols its op reads (OpDef::reads_symbols) that the graph
// declares, sorted.
absl::StatusOr<Program> schedule_program(const ir::Graph& graph, const MemoryPlan& plan);

}  // namespace kiln::passes
