#include "tools/standard_output.h"

#include <cerrno>
#include <cstdio>
#include <iostream>

namespace kiln::cli {
namespace {

// errno of the first failed write to stdout; 0 while none has failed.
int first_error = 0;

bool stdout_failed() { return !std::cout.good() || std::ferror(stdout) != 0; }

void note_failure(int error) {
  if (first_error == 0) first_error = error != 0 ? error : EIO;
}

}  // namespace

bool print_flushed(std::string_view text) {
  errno = 0;
  std::cout << text << std::flush;
  if (!stdout_failed()) return true;
  note_failure(errno);
  return false;
}

absl::Status stdout_status() {
  errno = 0;
  std::cout.flush();
  int error = errno;
  if (std::fflush(stdout) != 0) error = errno;
  if (!stdout_failed()) return absl::OkStatus();
  note_failure(error);
  return absl::ErrnoToStatus(first_error, "cannot write to stdout");
}

}  // namespace kiln::cli
