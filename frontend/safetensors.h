#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "frontend/mapped_file.h"
#include "frontend/tensor_data.h"

namespace kiln::frontend {

// What a safetensors header says about one tensor.
struct SafetensorsTensorInfo {
  std::string dtype;           // as the header spells it: "F32"
  std::vector<int64_t> shape;  // outermost first
  uint64_t begin = 0;          // [begin, end) within the data section
  uint64_t end = 0;
};

// One .safetensors file: a u64 header length, that many bytes of JSON naming
// each tensor's dtype, shape and data_offsets, then the data section the
// offsets point into. open() validates the whole layout the way the reference
// implementation does: every tensor's offsets are in order, back to back,
// cover the data section exactly and hold dtype × shape bytes. Tensors of any
// safetensors dtype may be listed; tensor() serves F32, F16, BF16 and I32.
// "__metadata__" is skipped.
class SafetensorsFile {
 public:
  static absl::StatusOr<SafetensorsFile> open(const std::string& path);
  static absl::StatusOr<SafetensorsFile> from_file(std::shared_ptr<const MappedFile> file);

  using TensorMap = std::map<std::string, SafetensorsTensorInfo, std::less<>>;

  const std::string& path() const { return file_->path(); }
  const TensorMap& tensors() const { return tensors_; }
  std::vector<std::string> names() const;  // sorted
  bool contains(std::string_view name) const { return tensors_.contains(name); }
  // A view of the tensor's bytes in the mapping.
  absl::StatusOr<TensorData> tensor(std::string_view name) const;

 private:
  SafetensorsFile(std::shared_ptr<const MappedFile> file, uint64_t data_start, TensorMap tensors);

  std::shared_ptr<const MappedFile> file_;
  uint64_t data_start_ = 0;  // file offset of the data section
  TensorMap tensors_;
};

// The weights of a Hugging Face model folder: model.safetensors, or else the
// shards that model.safetensors.index.json's weight_map assigns tensors to.
// Every shard is opened (and validated) up front, and every tensor the index
// names must be in the shard it names.
class SafetensorsCollection {
 public:
  static absl::StatusOr<SafetensorsCollection> open(const std::string& dir);

  std::vector<std::string> names() const;  // sorted
  bool contains(std::string_view name) const { return shard_of_.contains(name); }
  absl::StatusOr<TensorData> tensor(std::string_view name) const;

 private:
  SafetensorsCollection(std::string dir, std::vector<SafetensorsFile> shards,
                        std::map<std::string, size_t, std::less<>> shard_of);
  static absl::StatusOr<SafetensorsCollection> open_shards(
      const std::string& dir, const std::string& index_path,
      const std::map<std::string, std::string>& weight_map);

  std::string dir_;
  std::vector<SafetensorsFile> shards_;
  std::map<std::string, size_t, std::less<>> shard_of_;  // tensor name -> index in shards_
};

}  // namespace kiln::frontend
