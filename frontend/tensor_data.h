#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "frontend/mapped_file.h"
#include "ir/dtype.h"

namespace kiln::frontend {

// One tensor's bytes: exactly dtype_bytes(dtype, element_count(shape)) of
// them, little-endian, at `data`, which is aligned to the element size. They
// are a view of the mapped file wherever the file aligns them (always, for
// files written by the reference writers); a tensor the file misaligns is
// copied into a buffer that `owner` holds.
struct TensorData {
  std::string name;
  ir::DType dtype;
  std::vector<int64_t> shape;         // outermost first (row-major, numpy order)
  std::shared_ptr<const void> owner;  // keeps the mapping (or the copy) alive
  const uint8_t* data = nullptr;
  size_t bytes = 0;
};

// Elements in `shape`; nullopt when a dim is negative or the product
// exceeds int64.
std::optional<int64_t> element_count(std::span<const int64_t> shape);

// Bytes of a `dtype` tensor of `shape`; nullopt when a dim is negative or
// the size overflows. `dtype` is an element type (one element per block), as
// all of ir::DType's are today.
std::optional<uint64_t> tensor_bytes(ir::DType dtype, std::span<const int64_t> shape);

// `shape` as messages print it: [4096, 32].
std::string shape_string(std::span<const int64_t> shape);

// The bytes of a `dtype` tensor of `shape` that start at `offset` in `file`:
// a view, or an aligned copy when `offset` misaligns them. Fails, naming the
// file and tensor, when the size overflows or the bytes lie outside the file.
absl::StatusOr<TensorData> map_tensor(std::shared_ptr<const MappedFile> file, std::string name,
                                      ir::DType dtype, std::vector<int64_t> shape, uint64_t offset);

}  // namespace kiln::frontend
