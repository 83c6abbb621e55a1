#include "frontend/tensor_data.h"

#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "frontend/checked_math.h"

namespace kiln::frontend {

std::optional<int64_t> element_count(std::span<const int64_t> shape) {
  uint64_t count = 1;
  for (const int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    const std::optional<uint64_t> product = checked_mul(count, static_cast<uint64_t>(dim));
    if (!product || *product > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    count = *product;
  }
  return static_cast<int64_t>(count);
}

std::optional<uint64_t> tensor_bytes(ir::DType dtype, std::span<const int64_t> shape) {
  const std::optional<int64_t> elements = element_count(shape);
  if (!elements) return std::nullopt;
  return checked_mul(static_cast<uint64_t>(*elements),
                     static_cast<uint64_t>(ir::dtype_info(dtype).block_bytes));
}

std::string shape_string(std::span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::StatusOr<TensorData> map_tensor(std::shared_ptr<const MappedFile> file, std::string name,
                                      ir::DType dtype, std::vector<int64_t> shape,
                                      uint64_t offset) {
  const std::string what = absl::StrCat("tensor '", name, "'");
  const std::optional<uint64_t> bytes = tensor_bytes(dtype, shape);
  if (!bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(file->path(), ": ", what, ": shape ", shape_string(shape), " of ",
                     std::string(ir::dtype_name(dtype)), " overflows"));
  }
  if (absl::Status in_file = file->check_range(offset, *bytes, what); !in_file.ok()) {
    return in_file;
  }
  TensorData tensor{.name = std::move(name),
                    .dtype = dtype,
                    .shape = std::move(shape),
                    .owner = file,
                    .data = file->data() + offset,
                    .bytes = static_cast<size_t>(*bytes)};
  if (offset % ir::dtype_info(dtype).block_bytes != 0) {
    // The file's bytes are aligned (see MappedFile::data()), so only the
    // offset can misalign them; an owned copy is aligned by operator new.
    auto copy =
        std::make_shared<const std::vector<uint8_t>>(tensor.data, tensor.data + tensor.bytes);
    tensor.data = copy->data();
    tensor.owner = std::move(copy);
  }
  return tensor;
}

}  // namespace kiln::frontend
