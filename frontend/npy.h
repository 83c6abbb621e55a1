#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "frontend/mapped_file.h"
#include "frontend/tensor_data.h"
#include "ir/dtype.h"

namespace kiln::frontend {

// NumPy .npy files (format versions 1.0, 2.0 and 3.0) holding one C-order,
// little-endian array of '<f4' (f32), '<f2' (f16) or '<i4' (i32). The tensor
// is named after the file's stem ("x.npy" holds "x"); its bytes stay mapped.
// Bytes after the array (np.save called twice on one file) are ignored, as
// np.load ignores them.
absl::StatusOr<TensorData> read_npy(const std::string& path);
absl::StatusOr<TensorData> read_npy(std::shared_ptr<const MappedFile> file);

// Writes `data`, dtype_bytes(dtype, element_count(shape)) bytes in C order, as
// a version 1.0 .npy file (2.0 if the header needs it). f32, f16 and i32
// only: npy has no bfloat16.
absl::Status write_npy(const std::string& path, ir::DType dtype, const std::vector<int64_t>& shape,
                       const void* data);

}  // namespace kiln::frontend
