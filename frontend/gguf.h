#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "frontend/ggml_type.h"
#include "frontend/gguf_value.h"
#include "frontend/mapped_file.h"
#include "frontend/tensor_data.h"

namespace kiln::frontend {

inline constexpr std::string_view kGgufMagic = "GGUF";
inline constexpr std::string_view kGgufAlignmentKey = "general.alignment";
inline constexpr uint64_t kGgufDefaultAlignment = 32;
// ggml's GGML_MAX_DIMS.
inline constexpr uint32_t kGgufMaxDims = 4;

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // outermost first: the file's ne[] reversed
  GgmlType type;
  uint64_t offset = 0;  // from the start of the data section
  uint64_t bytes = 0;
};

// A GGUF file, version 2 or 3 (little-endian): header, metadata, tensor infos,
// then the data section at the next multiple of general.alignment (default
// 32). open() reads all metadata and checks every tensor's type, size,
// alignment and bounds, whatever its type; tensor() maps f32, f16, bf16 and
// i32 tensors and refuses quantised ones by name.
class GgufFile {
 public:
  using Metadata = std::map<std::string, GgufValue, std::less<>>;

  static absl::StatusOr<GgufFile> open(const std::string& path);
  static absl::StatusOr<GgufFile> from_file(std::shared_ptr<const MappedFile> file);

  const std::string& path() const { return file_->path(); }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }

  const Metadata& metadata() const { return metadata_; }
  // nullptr when `key` is absent.
  const GgufValue* find(std::string_view key) const;
  // Each fails with NotFound when `key` is absent, and names the key, its
  // value and the expected type when the value does not convert. Integers and
  // floats of any width convert when the value fits.
  absl::StatusOr<std::string> get_string(std::string_view key) const;
  absl::StatusOr<uint64_t> get_u64(std::string_view key) const;
  absl::StatusOr<int64_t> get_i64(std::string_view key) const;
  absl::StatusOr<double> get_f64(std::string_view key) const;
  absl::StatusOr<bool> get_bool(std::string_view key) const;
  absl::StatusOr<std::vector<std::string>> get_string_array(std::string_view key) const;
  absl::StatusOr<std::vector<float>> get_f32_array(std::string_view key) const;
  absl::StatusOr<std::vector<int32_t>> get_i32_array(std::string_view key) const;

  // In file order.
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  absl::StatusOr<TensorData> tensor(std::string_view name) const;

 private:
  GgufFile(std::shared_ptr<const MappedFile> file, uint32_t version, uint64_t alignment,
           Metadata metadata, std::vector<GgufTensorInfo> tensors,
           std::map<std::string, size_t, std::less<>> tensor_index, uint64_t data_start);

  std::shared_ptr<const MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kGgufDefaultAlignment;
  Metadata metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;  // name -> index in tensors_
  uint64_t data_start_ = 0;                                  // file offset of the data section
};

}  // namespace kiln::frontend
