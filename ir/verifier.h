#pragma once

#include "absl/status/status.h"
#include "ir/graph.h"

namespace kiln::ir {

// Checks every invariant passes rely on, and names the op, the value and the
// rule broken in its message:
//  - program order: each operand is defined before the node that reads it;
//  - use lists match the operands exactly;
//  - each node's attributes match its op's schema and its result types equal
//    what the op's inference gives for its operands;
//  - every symbolic dim is declared; graph outputs exist.
absl::Status verify(const Graph& graph);

}  // namespace kiln::ir
