#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace kiln::cli {

// Writes `text` and a newline to stdout when `path` is empty or "-", else
// as the whole of the file `path`, never leaving it half-written.
// The path itself is written as frontend::write_file_atomically says: a
// device, FIFO or symlink target in place of a regular file.
absl::Status write_output(const std::string& path, std::string_view text);

// Refuses, before any work, a `path` that write_output could not write.
absl::Status check_output(const std::string& path);

}  // namespace kiln::cli
