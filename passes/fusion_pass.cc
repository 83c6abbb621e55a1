// fuse: rewrites the graph with the built-in fusion tables (run_fusion in
// fusion_engine.h says in which order) and, when PassContext::explain is
// set, says for every candidate site which rule fused it or why each rule
// tried there refused.

#include "passes/fusion_pass.h"

#include <ostream>

#include "passes/builtin_passes.h"
#include "passes/fusion_rules.h"

namespace kiln::passes {
namespace {

// The tables are checked once; a malformed row is a build error of kiln
// itself, reported by every run of the pass (and by fusion_rules_test).
const absl::StatusOr<std::vector<CompiledTable>>& builtin_tables() {
  static const auto* tables = new absl::StatusOr<std::vector<CompiledTable>>(compile_tables(builtin_fusion_tables()));
  return *tables;
}

absl::Status fuse(ir::Graph& graph, PassContext& context) {
  absl::StatusOr<FusionReport> report = fuse_graph(graph, context.target);
  if (!report.ok()) return report.status();
  if (context.explain != nullptr) *context.explain << format_fusion_report(*report);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FusionReport> fuse_graph(ir::Graph& graph, const Target& target) {
  const absl::StatusOr<std::vector<CompiledTable>>& tables = builtin_tables();
  if (!tables.ok()) return tables.status();
  return run_fusion(graph, *tables, target);
}

PassInfo fuse_pass() {
  return {"fuse", "applies the fusion rule tables (first match wins) to a fixpoint; explains each decision", fuse};
}

}  // namespace kiln::passes
