#include "frontend/atomic_write.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace kiln::frontend {
namespace {

// Distinguishes the temporary files of concurrent writes from one process;
// the pid distinguishes processes.
std::atomic<uint64_t> next_temp_id{0};

// Linux's limit on links followed in one path lookup.
constexpr int kMaxSymlinkHops = 40;

using Pieces = std::initializer_list<std::span<const uint8_t>>;

absl::Status write_all(int fd, Pieces pieces, const std::string& path) {
  for (std::span<const uint8_t> bytes : pieces) {
    while (!bytes.empty()) {
      const ssize_t written = ::write(fd, bytes.data(), bytes.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot write"));
      }
      bytes = bytes.subspan(static_cast<size_t>(written));
    }
  }
  return absl::OkStatus();
}

// `path` with every symbolic link in its last component followed; a
// dangling link gives the path it points to.
absl::StatusOr<std::filesystem::path> follow_links(const std::string& path) {
  std::filesystem::path target = path;
  for (int hops = 0;; ++hops) {
    struct stat info;
    if (::lstat(target.c_str(), &info) != 0 || !S_ISLNK(info.st_mode)) return target;
    if (hops == kMaxSymlinkHops) return absl::ErrnoToStatus(ELOOP, absl::StrCat(path, ": cannot resolve"));
    std::error_code error;
    const std::filesystem::path link = std::filesystem::read_symlink(target, error);
    if (error) return absl::ErrnoToStatus(error.value(), absl::StrCat(path, ": cannot read the link"));
    target = link.is_absolute() ? link : target.parent_path() / link;
  }
}

// What stat says of `target`: nullopt when nothing is there.
absl::StatusOr<std::optional<struct stat>> stat_of(const std::string& path, const std::filesystem::path& target) {
  struct stat info;
  if (::stat(target.c_str(), &info) == 0) return std::optional<struct stat>(info);
  if (errno == ENOENT) return std::optional<struct stat>();
  return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot inspect"));
}

bool written_in_place(mode_t mode) { return S_ISCHR(mode) || S_ISFIFO(mode); }

absl::Status refuse(const std::string& path, mode_t mode) {
  const char* what = "a special file";
  if (S_ISDIR(mode)) what = "a directory";
  if (S_ISBLK(mode)) what = "a block device";
  if (S_ISSOCK(mode)) what = "a socket";
  return absl::FailedPreconditionError(
      absl::StrCat(path, ": is ", what, "; kiln writes regular files, character devices and FIFOs only"));
}

absl::Status write_in_place(const std::string& path, const std::filesystem::path& target, Pieces pieces) {
  const int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot open for writing"));
  absl::Status status = write_all(fd, pieces, path);
  if (::close(fd) != 0 && status.ok()) status = absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot write"));
  return status;
}

// `mode`: the permission bits to give the new file, when replacing one.
absl::Status replace_file(const std::string& path, const std::filesystem::path& target, std::optional<mode_t> mode,
                          Pieces pieces) {
  const std::string temp = absl::StrCat(target.string(), ".tmp-", ::getpid(), "-", next_temp_id++);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot create ", temp));
  absl::Status status = write_all(fd, pieces, path);
  if (status.ok() && mode && ::fchmod(fd, *mode & 07777) != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot set the permissions of ", temp));
  }
  if (::close(fd) != 0 && status.ok()) status = absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot write"));
  if (status.ok() && std::rename(temp.c_str(), target.c_str()) != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot replace with ", temp));
  }
  if (!status.ok()) ::unlink(temp.c_str());
  return status;
}

}  // namespace

absl::Status write_file_atomically(const std::string& path, Pieces pieces) {
  if (path == "-") {
    if (std::fflush(stdout) != 0) return absl::ErrnoToStatus(errno, "stdout: cannot write");
    return write_all(STDOUT_FILENO, pieces, "stdout");
  }
  const absl::StatusOr<std::filesystem::path> target = follow_links(path);
  if (!target.ok()) return target.status();
  const absl::StatusOr<std::optional<struct stat>> info = stat_of(path, *target);
  if (!info.ok()) return info.status();
  if (!info->has_value()) return replace_file(path, *target, std::nullopt, pieces);
  const mode_t mode = (*info)->st_mode;
  if (S_ISREG(mode)) return replace_file(path, *target, mode, pieces);
  if (written_in_place(mode)) return write_in_place(path, *target, pieces);
  return refuse(path, mode);
}

absl::Status check_writable(const std::string& path) {
  if (path == "-") return absl::OkStatus();
  const absl::StatusOr<std::filesystem::path> target = follow_links(path);
  if (!target.ok()) return target.status();
  const absl::StatusOr<std::optional<struct stat>> info = stat_of(path, *target);
  if (!info.ok()) return info.status();
  if (info->has_value() && written_in_place((*info)->st_mode)) {
    if (::access(target->c_str(), W_OK) != 0) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot write"));
    return absl::OkStatus();
  }
  if (info->has_value() && !S_ISREG((*info)->st_mode)) return refuse(path, (*info)->st_mode);
  // A regular file is replaced by a new file in its folder.
  const std::filesystem::path folder = target->has_parent_path() ? target->parent_path() : ".";
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot create a file in ", folder.string()));
  }
  return absl::OkStatus();
}

}  // namespace kiln::frontend
