#include "frontend/tensor_file_stream.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kiln::frontend {
namespace {

// stdio's buffer: large enough that each write(2) moves megabytes.
constexpr size_t kBufferBytes = size_t{8} << 20;

}  // namespace

absl::StatusOr<TensorFileStream> TensorFileStream::create(std::string path) {
  std::string temporary = absl::StrCat(path, ".tmp.", ::getpid());
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot create ", temporary, ": ", std::strerror(errno)));
  }
  std::setvbuf(file, nullptr, _IOFBF, kBufferBytes);
  return TensorFileStream(std::move(path), std::move(temporary), file);
}

TensorFileStream::TensorFileStream(std::string path, std::string temporary, std::FILE* file)
    : path_(std::move(path)), temporary_(std::move(temporary)), file_(file) {}

TensorFileStream::~TensorFileStream() {
  if (file_ == nullptr) return;
  file_.reset();
  std::remove(temporary_.c_str());
}

absl::Status TensorFileStream::failure(const char* what) const {
  return absl::DataLossError(absl::StrCat(path_, ": ", what, " failed after ", size_, " bytes: ", std::strerror(errno)));
}

absl::Status TensorFileStream::write(std::span<const uint8_t> bytes) {
  if (file_ == nullptr) return absl::FailedPreconditionError(absl::StrCat(path_, ": written after finish()"));
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_.get()) != bytes.size()) {
    return failure("write");
  }
  size_ += bytes.size();
  return absl::OkStatus();
}

absl::Status TensorFileStream::pad_to(uint64_t alignment) {
  const uint64_t remainder = size_ % alignment;
  if (remainder == 0) return absl::OkStatus();
  const std::vector<uint8_t> zeros(alignment - remainder, 0);
  return write(zeros);
}

absl::Status TensorFileStream::finish() {
  if (file_ == nullptr) return absl::FailedPreconditionError(absl::StrCat(path_, ": finished twice"));
  if (std::fflush(file_.get()) != 0 || std::ferror(file_.get()) != 0) return failure("write");
  const bool closed = std::fclose(file_.release()) == 0;
  if (closed && std::rename(temporary_.c_str(), path_.c_str()) == 0) return absl::OkStatus();
  const absl::Status status = failure(closed ? "rename" : "close");
  std::remove(temporary_.c_str());
  return status;
}

}  // namespace kiln::frontend
