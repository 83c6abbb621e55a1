#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "frontend/ggml_type.h"
#include "frontend/gguf_value.h"
#include "ir/dtype.h"

namespace kiln::frontend {

// Builds a GGUF file in memory: metadata of every type, then tensors of any
// ggml type, laid out as llama.cpp lays them out (each tensor's data padded
// to the alignment). For fixtures and tests; the bytes reach disk only
// through write(), all at once.
class GgufWriter {
 public:
  // `version` is 2 or 3, which share one layout.
  explicit GgufWriter(uint32_t version = 3) : version_(version) {}

  // Sets `key`, replacing an earlier value; keys keep the order of their first
  // set(). general.alignment, an integer power of two up to 64 KiB, sets the
  // data alignment (default 32).
  void set(std::string key, GgufValue value);

  // Adds a tensor of `shape` (outermost first), copying the
  // dtype_bytes(dtype, element_count(shape)) bytes at `data`.
  absl::Status add_tensor(std::string name, ir::DType dtype, std::vector<int64_t> shape,
                          const void* data);
  // The same for any ggml type, quantised ones included: `data` holds
  // ggml_tensor_bytes(type, shape) bytes.
  absl::Status add_tensor(std::string name, const GgmlType& type, std::vector<int64_t> shape,
                          const void* data);

  absl::StatusOr<std::vector<uint8_t>> serialize() const;
  absl::Status write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> shape;  // outermost first
    std::vector<uint8_t> data;
  };

  absl::StatusOr<uint64_t> alignment() const;

  uint32_t version_;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Tensor> tensors_;
};

}  // namespace kiln::frontend
