#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace kiln::cli {

// kiln's results go to stdout; a write there that fails (a full disk,
// `> /dev/full`) is an error, never a silent loss.

// Writes `text` to stdout and flushes it, for output streamed as it is
// made. Returns false once stdout has failed; the first failure's cause is
// kept for stdout_status().
bool print_flushed(std::string_view text);

// Flushes std::cout and stdout, then: OK, or "cannot write to stdout:
// <cause>" if any write to stdout (through std::cout, stdio or
// print_flushed) has failed. command_main checks it after every command.
absl::Status stdout_status();

}  // namespace kiln::cli
