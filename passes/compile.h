#pragma once

#include <iosfwd>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "passes/pass_manager.h"
#include "program/program.h"
#include "passes/target.h"

namespace kiln::passes {

struct CompileOptions {
  Target target;
  std::string pipeline = std::string(kDefaultPipeline);
  PassManagerOptions pass_options;
  std::ostream* explain = nullptr;  // --explain-fusion output; null: silent
  std::map<std::string, std::string> force_variants;  // op -> variant (PassContext::force_variants)
};

// Runs `options.pipeline` over `graph` (rewriting it in place) and returns
// the Program its `schedule` pass emitted. A pipeline without `schedule` is
// an error: there would be nothing to return.
absl::StatusOr<program::Program> compile(ir::Graph& graph, const CompileOptions& options);

}  // namespace kiln::passes
