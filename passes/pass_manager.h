#pragma once

#include <deque>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "ir/graph.h"
#include "passes/memory_plan.h"
#include "program/program.h"
#include "passes/target.h"

namespace kiln::passes {

// What passes share beyond the graph: the target, where explanations go,
// and the results of the late passes (plan-memory fills `plan`, schedule
// fills `program`).
struct PassContext {
  Target target;
  std::ostream* explain = nullptr;  // --explain-fusion output; null: silent
  // op -> variant: select-variants gives every dispatch of that op this
  // variant instead of the table's choice (--force-variant, conformance
  // tests); the plugin refuses one it lacks.
  std::map<std::string, std::string> force_variants;
  std::optional<MemoryPlan> plan;
  std::optional<program::Program> program;
};

using PassFn = std::function<absl::Status(ir::Graph&, PassContext&)>;

struct PassInfo {
  std::string name;     // the pipeline name: "plan-memory"
  std::string summary;  // one line, for `kiln opt --help`
  PassFn run;
};

// Passes by name. The built-in passes register on first use; users add
// their own with add() before building a pipeline.
class PassRegistry {
 public:
  static PassRegistry& global();
  absl::Status add(PassInfo pass);
  const PassInfo* find(std::string_view name) const;
  std::vector<const PassInfo*> all() const;

 private:
  PassRegistry();
  // A deque: find() and PassManager hold pointers that add() must not move.
  std::deque<PassInfo> passes_;
};

struct PassManagerOptions {
  bool print_after_all = false;
  std::set<std::string> print_after;  // pass names
  bool verify_each = true;            // run the IR verifier after every pass
  bool timing = false;                // report per-pass wall time
  std::ostream* log = nullptr;        // where prints and timings go; null: std::cerr
};

// Runs a pipeline of named passes over a graph.
class PassManager {
 public:
  // "infer-shapes,canonicalize,cse,dce"; an unknown name is an error that
  // lists the known ones.
  static absl::StatusOr<PassManager> from_pipeline(std::string_view pipeline, PassManagerOptions options = {});

  // Errors are prefixed with the pass name: "plan-memory: ...".
  absl::Status run(ir::Graph& graph, PassContext& context) const;
  const std::vector<const PassInfo*>& passes() const { return passes_; }

 private:
  std::vector<const PassInfo*> passes_;
  PassManagerOptions options_;
};

// The pipeline `kiln compile` runs: from a frontend's graph to a Program.
inline constexpr std::string_view kDefaultPipeline =
    "infer-shapes,canonicalize,cse,dce,fuse,dce,plan-memory,schedule,select-variants";

}  // namespace kiln::passes
