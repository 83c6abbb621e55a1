#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "passes/target.h"

namespace kiln::cli {

inline constexpr const char* kTargetOptionHelp =
    "target capabilities for the passes when no backend is opened: backend=cpu,has_f16=1,"
    "subgroup_size=32,shared_memory_bytes=49152,max_buffer_bytes=0";

// Parses "backend=vulkan,shared_memory_bytes=32768,..." (empty: defaults).
absl::StatusOr<passes::Target> parse_target_option(std::string_view text);

}  // namespace kiln::cli
