#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace kiln::cli {

// The whole of the file `path` as bytes, or of stdin when `path` is "-".
// Errors name the path ("stdin" for "-") and the cause.
absl::StatusOr<std::string> read_text_input(const std::string& path);

}  // namespace kiln::cli
