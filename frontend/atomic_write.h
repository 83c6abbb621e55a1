#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

#include "absl/status/status.h"

namespace kiln::frontend {

// Writes `pieces`, in order, as the whole content of `path`, leaving nothing
// half-written: the bytes go to a temporary file beside `path`, which is
// renamed over it once complete and removed on failure. There is no fsync, so
// this guards against failed writes, not against power loss.
absl::Status write_file_atomically(const std::string& path,
                                   std::initializer_list<std::span<const uint8_t>> pieces);

}  // namespace kiln::frontend
