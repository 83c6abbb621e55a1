#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "passes/memory_plan.h"

namespace kiln::passes {

struct MemoryPlannerOptions {
  int64_t alignment = 256;  // bytes; a power of two
  bool in_place = true;     // let results take over a dying operand's storage where the op allows
};

// Plans where every value of `graph` lives, in program order:
//  - liveness: a value is live from its defining node to its last use; graph
//    inputs from the start, graph outputs to the end;
//  - sizes are the types' bytes at the symbols' declared upper bounds;
//  - inputs, outputs and intermediates share one arena: each storage gets an
//    aligned offset, and storage whose lifetime ended is reused (greedy by
//    size, best fit);
//  - views and kv_write results (OpDef::aliases) share their
//    operand's storage and extend its lifetime; a result may take over a
//    dying intermediate operand's storage (OpDef::may_write_in_place_over);
//  - each state value gets its own aligned offset in the state region, never
//    reused; weights are Region::weight with their index in graph.weights().
// `out_notes`, when given, receives one line per in-place decision, with the
// reason for each refusal ("%y = add: not in place over %x: %x is a graph
// input").
absl::StatusOr<MemoryPlan> plan_memory(const ir::Graph& graph, const MemoryPlannerOptions& options = {},
                                       std::vector<std::string>* out_notes = nullptr);

}  // namespace kiln::passes
