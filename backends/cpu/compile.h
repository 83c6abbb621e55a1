#pragma once

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "backends/cpu/device.h"
#include "backends/cpu/executable.h"
#include "backends/cpu/memory.h"

namespace kiln::backends::cpu {

// Builds an executable from a Program's JSON: checks it, resolves each
// dispatch's (kernel, variant) in kernels/cpu's table, and allocates the
// arena. Errors name the dispatch (index, node, kernel and variant).
absl::StatusOr<std::unique_ptr<Executable>> compile(Device& device, const char* program_json, size_t length);

// The weights and state of an executable's Program, for every executable
// with the same tables.
std::unique_ptr<Weights> make_weights(const Executable& executable);
absl::StatusOr<std::unique_ptr<State>> make_state(Device& device, const Executable& executable);

}  // namespace kiln::backends::cpu
