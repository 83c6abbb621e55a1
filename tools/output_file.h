#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace kiln::cli {

// Writes `text` and a newline to stdout when `path` is empty or "-", else
// as the whole of the file `path`, never leaving it half-written.
absl::Status write_output(const std::string& path, std::string_view text);

}  // namespace kiln::cli
