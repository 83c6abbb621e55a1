#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiln::frontend {

// The bytes of one file, memory-mapped read-only, or held in memory for input
// that never was a file (fuzzers, tests). Tensor views keep their MappedFile
// alive through TensorData::owner, so the mapping lasts as long as the last
// view of it.
//
// The file must not be truncated or rewritten while it is mapped: as with any
// mmap reader, touching a page the file no longer has raises SIGBUS.
class MappedFile {
 public:
  static absl::StatusOr<std::shared_ptr<const MappedFile>> open(const std::string& path);
  // `name` stands in for the path in messages.
  static std::shared_ptr<const MappedFile> from_bytes(std::string name, std::vector<uint8_t> bytes);

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  // Aligned to at least alignof(std::max_align_t); may be null when size() is 0.
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

  // Fails unless [offset, offset + count) lies inside the file. The message
  // names the file and `what` ("tensor 'w'"), and gives the range and size.
  absl::Status check_range(uint64_t offset, uint64_t count, std::string_view what) const;

 private:
  MappedFile(std::string path, std::vector<uint8_t> owned);
  MappedFile(std::string path, const uint8_t* mapped, size_t size);

  std::string path_;
  std::vector<uint8_t> owned_;     // the bytes of from_bytes(); empty when mapped
  const uint8_t* data_ = nullptr;  // into owned_ or the mapping
  size_t size_ = 0;
  bool mapped_ = false;  // munmap data_ on destruction
};

}  // namespace kiln::frontend
