#include "frontend/atomic_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace kiln::frontend {
namespace {

// Distinguishes the temporary files of concurrent writes from one process;
// the pid distinguishes processes.
std::atomic<uint64_t> next_temp_id{0};

absl::Status write_all(int fd, std::span<const uint8_t> bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot write"));
    }
    bytes = bytes.subspan(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status write_file_atomically(const std::string& path,
                                   std::initializer_list<std::span<const uint8_t>> pieces) {
  const std::string temp = absl::StrCat(path, ".tmp-", ::getpid(), "-", next_temp_id++);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot create ", temp));
  absl::Status status;
  for (const std::span<const uint8_t> piece : pieces) {
    status = write_all(fd, piece, path);
    if (!status.ok()) break;
  }
  if (::close(fd) != 0 && status.ok()) {
    status = absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot write"));
  }
  if (status.ok() && std::rename(temp.c_str(), path.c_str()) != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot replace with ", temp));
  }
  if (!status.ok()) ::unlink(temp.c_str());
  return status;
}

}  // namespace kiln::frontend
