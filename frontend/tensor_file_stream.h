#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiln::frontend {

// Writes one large model file (GGUF, safetensors) front to back without
// holding it in memory: the header, then each tensor's bytes in pieces of
// any size. The bytes go to a temporary file beside `path`, renamed over it
// by finish(); a stream destroyed before finish() removes the temporary,
// so a half-written model is never seen under its name. Move-only; not
// thread-safe.
class TensorFileStream {
 public:
  static absl::StatusOr<TensorFileStream> create(std::string path);
  TensorFileStream(TensorFileStream&&) = default;
  TensorFileStream& operator=(TensorFileStream&&) = default;
  ~TensorFileStream();

  absl::Status write(std::span<const uint8_t> bytes);
  // Zero bytes up to the next multiple of `alignment` (from the file's start).
  absl::Status pad_to(uint64_t alignment);
  // Bytes written so far.
  uint64_t size() const { return size_; }
  // Flushes, closes and renames the temporary to the path.
  absl::Status finish();

 private:
  struct CloseFile {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  TensorFileStream(std::string path, std::string temporary, std::FILE* file);
  absl::Status failure(const char* what) const;

  std::string path_, temporary_;
  std::unique_ptr<std::FILE, CloseFile> file_;
  uint64_t size_ = 0;
};

}  // namespace kiln::frontend
