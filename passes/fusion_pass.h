#pragma once

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "passes/fusion_engine.h"
#include "passes/target.h"

namespace kiln::passes {

// What the `fuse` pass does: runs the built-in fusion tables
// (fusion_rules.cc) over `graph` for `target` and returns every decision.
// format_fusion_report(report) is the --explain-fusion text; a tool that
// wants it without a pipeline calls this directly.
absl::StatusOr<FusionReport> fuse_graph(ir::Graph& graph, const Target& target);

}  // namespace kiln::passes
