#pragma once

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "passes/memory_plan.h"
#include "passes/target.h"
#include "program/program.h"

namespace kiln::passes {

// Emits the Program for `graph` placed by `plan` (from plan_memory on the
// same graph):
//  - slots: the graph's symbols as given slots (T first, then P, then any
//    other, by name), and a derived slot for each sum a kernel parameter
//    needs (P+T, T-1); a symbol the graph does not declare counts as 0 (an
//    op reading P in a graph without a KV cache);
//  - the weight table, packed in graph order at aligned offsets into chunks
//    of at most target.max_buffer_bytes;
//  - one dispatch per node in program order, except views (reshape), which
//    run no kernel (their readers address the viewed storage with the view's
//    own shape). Its constants are the node's scalar attributes
//    (enumerations as their index) and the static kernel parameters its
//    op's registry entry derives; the others are step parameters;
//  - each dispatch's hazards (hazards.h).
absl::StatusOr<program::Program> schedule_program(const ir::Graph& graph, const MemoryPlan& plan,
                                                  const Target& target);

}  // namespace kiln::passes
