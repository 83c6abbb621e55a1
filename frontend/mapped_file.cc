#include "frontend/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "frontend/checked_math.h"

namespace kiln::frontend {
namespace {

// Closes the descriptor on every path out of open(); the mapping outlives it.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

MappedFile::MappedFile(std::string path, std::vector<uint8_t> owned)
    : path_(std::move(path)),
      owned_(std::move(owned)),
      data_(owned_.data()),
      size_(owned_.size()) {}

MappedFile::MappedFile(std::string path, const uint8_t* mapped, size_t size)
    : path_(std::move(path)), data_(mapped), size_(size), mapped_(true) {}

MappedFile::~MappedFile() {
  if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

absl::StatusOr<std::shared_ptr<const MappedFile>> MappedFile::open(const std::string& path) {
  const ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot open"));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot stat"));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  const size_t size = static_cast<size_t>(info.st_size);
  if (size == 0) {
    // mmap refuses a zero length; an empty file is simply no bytes.
    return std::shared_ptr<const MappedFile>(new MappedFile(path, std::vector<uint8_t>{}));
  }
  void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (mapped == MAP_FAILED) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot mmap"));
  return std::shared_ptr<const MappedFile>(
      new MappedFile(path, static_cast<const uint8_t*>(mapped), size));
}

std::shared_ptr<const MappedFile> MappedFile::from_bytes(std::string name,
                                                         std::vector<uint8_t> bytes) {
  return std::shared_ptr<const MappedFile>(new MappedFile(std::move(name), std::move(bytes)));
}

absl::Status MappedFile::check_range(uint64_t offset, uint64_t count, std::string_view what) const {
  const std::optional<uint64_t> end = checked_add(offset, count);
  if (end && *end <= size_) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(path_, ": ", std::string(what), ": data [offset ", offset, ", ", count,
                   " bytes) lies outside the file (", size_, " bytes)"));
}

}  // namespace kiln::frontend
