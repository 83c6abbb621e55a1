#include "tools/output_file.h"

#include <cstdint>
#include <iostream>
#include <span>

#include "frontend/atomic_write.h"

namespace kiln::cli {

absl::Status write_output(const std::string& path, std::string_view text) {
  if (path.empty() || path == "-") {
    std::cout << text << "\n";
    return absl::OkStatus();
  }
  const auto bytes = [](std::string_view s) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  return frontend::write_file_atomically(path, {bytes(text), bytes("\n")});
}

absl::Status check_output(const std::string& path) {
  if (path.empty() || path == "-") return absl::OkStatus();
  return frontend::check_writable(path);
}

}  // namespace kiln::cli
