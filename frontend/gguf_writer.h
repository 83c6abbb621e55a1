#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "frontend/byte_writer.h"
#include "frontend/ggml_type.h"
#include "frontend/gguf_value.h"
#include "ir/dtype.h"

namespace kiln::frontend {

// Builds a GGUF file in memory: metadata of every type, then tensors of any
// ggml type, laid out as llama.cpp lays them out (each tensor's data padded
// to the alignment). For fixtures and tests the bytes reach disk through
// write(), all at once; a model too large for memory declares its tensors
// with add_tensor_info() and streams their data after header()
// (tensor_file_stream.h).
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

  // Declares a tensor whose bytes the caller writes after header(), in
  // declaration order, each padded to the alignment. A writer with such a
  // tensor cannot serialize().
  absl::Status add_tensor_info(std::string name, const GgmlType& type, std::vector<int64_t> shape);

  // Everything before the first tensor's data: the metadata and every
  // tensor's info, padded to the alignment.
  absl::StatusOr<std::vector<uint8_t>> header() const;
  absl::StatusOr<uint64_t> alignment() const;

  absl::StatusOr<std::vector<uint8_t>> serialize() const;
  absl::Status write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> shape;  // outermost first
    uint64_t bytes = 0;
    std::vector<uint8_t> data = {};  // empty for a tensor the caller streams
    bool streamed = false;
  };

  absl::Status check_new_tensor(const std::string& name, const GgmlType& type, const std::vector<int64_t>& shape,
                                uint64_t& out_bytes) const;
  absl::Status put_header(ByteWriter& out) const;

  uint32_t version_;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Tensor> tensors_;
};

}  // namespace kiln::frontend
