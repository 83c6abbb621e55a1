#pragma once

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "backends/cpu/executable.h"

namespace kiln::backends::cpu {

// Builds an executable from a Program's JSON (passes/program_json.h): checks
// it, completes each dispatch's constants from its op's schema, resolves its
// kernel in kernels/cpu's table, and allocates the arena, the state region
// and the weight buffers, or takes the last two from |share_with|, whose
// weight and state tables must equal the Program's. Errors name the dispatch
// (index, node and kernel) or the table entry at fault.
absl::StatusOr<std::unique_ptr<Executable>> compile(std::string_view program_json, const Executable* share_with);

}  // namespace kiln::backends::cpu
