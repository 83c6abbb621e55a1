#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

#include "absl/status/status.h"

namespace kiln::frontend {

// Writes `pieces`, in order, as the whole content of what `path` names,
// chosen by what is there:
// - a regular file, or nothing yet: the bytes go to a temporary file beside
//   it, which is renamed over it once complete (keeping an existing file's
//   permission bits) and removed on failure, so the file is never seen
//   half-written. There is no fsync: this guards against failed writes, not
//   against power loss.
// - a character device or a FIFO (/dev/null, /dev/stdout, a named pipe):
//   opened and written in place, never replaced or removed. A FIFO blocks
//   until it has a reader, as a shell redirection does.
// - "-": standard output, written in place after stdio's buffer is flushed.
// - a symbolic link: followed (to any depth); what it points to is written
//   as above and the link itself stays.
// Anything else (a directory, a socket, a block device) is refused with a
// message naming `path` and what it is; nothing is created then.
absl::Status write_file_atomically(const std::string& path,
                                   std::initializer_list<std::span<const uint8_t>> pieces);

// Whether write_file_atomically(`path`) may succeed, as far as file types
// and permissions tell, checked without creating, opening or changing
// anything: for refusing an output path before a long computation rather
// than after it. The error names `path` and the cause.
absl::Status check_writable(const std::string& path);

}  // namespace kiln::frontend
