#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "passes/target.h"

namespace kiln::passes {

// Runs one text-IR pass test: the graph in the case is parsed, the pipeline
// of its `# run:` line runs over it, and the printed result is checked
// against its expectations (docs/pass-tests.md). Directives, one per line:
//
//   # run: canonicalize,dce     the pipeline (exactly one run line)
//   # expect: TEXT              TEXT appears in a line of the printed output,
//                               after the previous expect's match (as
//                               FileCheck's CHECK)
//   # expect-not: TEXT          TEXT appears nowhere in the output
//   # expect-error: TEXT        the pipeline fails with a message containing TEXT
//   # set-type: %x : f32[8, 4]  before the pipeline, gives input, weight or
//                               state %x a new type (tests shape propagation)
//   # target: backend=vulkan shared_memory_bytes=32768 subgroup_size=32 has_f16=1
//                               sets these fields of the Target (over `target`)
//   # explain: TEXT             TEXT appears in a line of what the pipeline
//                               wrote to PassContext::explain, in order as
//                               expect's are (--explain-fusion output)
//
// Every other line belongs to the input graph (`#` starts a comment there).
// Passes are looked up in PassRegistry::global(), so a pass a test adds with
// PassRegistry::global().add() is tested the same way. Returns OK, or a
// message saying which expectation failed followed by the output graph.
absl::Status run_pass_case(std::string_view case_text, const Target& target = {});

}  // namespace kiln::passes
