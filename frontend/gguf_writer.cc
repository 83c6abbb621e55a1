#include "frontend/gguf_writer.h"

#include <algorithm>
#include <bit>
#include <span>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "frontend/atomic_write.h"
#include "frontend/byte_writer.h"
#include "frontend/checked_math.h"
#include "frontend/gguf.h"

namespace kiln::frontend {
namespace {

// Padding is written out, so a huge alignment would mean huge files.
constexpr uint64_t kMaxAlignment = uint64_t{1} << 16;

void put_string(ByteWriter& out, std::string_view text) {
  out.put<uint64_t>(text.size());
  out.put_bytes(text);
}

absl::Status put_value(ByteWriter& out, const GgufValue& value, std::string_view key);

absl::Status put_array(ByteWriter& out, const GgufValue& array, std::string_view key) {
  const std::vector<GgufValue>& elements = *array.as_array();
  out.put<uint32_t>(static_cast<uint32_t>(array.element_type()));
  out.put<uint64_t>(elements.size());
  for (size_t i = 0; i < elements.size(); ++i) {
    if (elements[i].type() != array.element_type()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metadata key '", std::string(key), "': element ", i, " is ", elements[i].describe(),
          " in an array of ", std::string(gguf_type_name(array.element_type()))));
    }
    if (absl::Status status = put_value(out, elements[i], key); !status.ok()) return status;
  }
  return absl::OkStatus();
}

// The factories that made `value` guarantee the payload its type implies.
absl::Status put_value(ByteWriter& out, const GgufValue& value, std::string_view key) {
  switch (value.type()) {
    case GgufType::u8: out.put(static_cast<uint8_t>(*value.as_u64())); break;
    case GgufType::i8: out.put(static_cast<int8_t>(*value.as_i64())); break;
    case GgufType::u16: out.put(static_cast<uint16_t>(*value.as_u64())); break;
    case GgufType::i16: out.put(static_cast<int16_t>(*value.as_i64())); break;
    case GgufType::u32: out.put(static_cast<uint32_t>(*value.as_u64())); break;
    case GgufType::i32: out.put(static_cast<int32_t>(*value.as_i64())); break;
    case GgufType::u64: out.put(*value.as_u64()); break;
    case GgufType::i64: out.put(*value.as_i64()); break;
    case GgufType::f32: out.put(static_cast<float>(*value.as_f64())); break;
    case GgufType::f64: out.put(*value.as_f64()); break;
    case GgufType::boolean: out.put<uint8_t>(*value.as_bool() ? 1 : 0); break;
    case GgufType::string: put_string(out, *value.as_string()); break;
    case GgufType::array: return put_array(out, value, key);
  }
  return absl::OkStatus();
}

}  // namespace

void GgufWriter::set(std::string key, GgufValue value) {
  const auto it = std::ranges::find(metadata_, key, &std::pair<std::string, GgufValue>::first);
  if (it != metadata_.end()) {
    it->second = std::move(value);
  } else {
    metadata_.emplace_back(std::move(key), std::move(value));
  }
}

absl::Status GgufWriter::add_tensor(std::string name, ir::DType dtype, std::vector<int64_t> shape,
                                    const void* data) {
  const GgmlType* type = ggml_type_of(dtype);
  if (type == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "': GGUF has no ",
                                                   std::string(ir::dtype_name(dtype)), " type"));
  }
  return add_tensor(std::move(name), *type, std::move(shape), data);
}

absl::Status GgufWriter::check_new_tensor(const std::string& name, const GgmlType& type,
                                          const std::vector<int64_t>& shape, uint64_t& out_bytes) const {
  if (std::ranges::find(tensors_, name, &Tensor::name) != tensors_.end()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "' is already added"));
  }
  if (shape.size() > kGgufMaxDims) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "' has ", shape.size(),
                                                   " dims, GGUF allows at most ", kGgufMaxDims));
  }
  const absl::StatusOr<uint64_t> bytes = ggml_tensor_bytes(type, shape);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", name, "': ", bytes.status().message()));
  }
  out_bytes = *bytes;
  return absl::OkStatus();
}

absl::Status GgufWriter::add_tensor(std::string name, const GgmlType& type,
                                    std::vector<int64_t> shape, const void* data) {
  uint64_t bytes = 0;
  if (absl::Status status = check_new_tensor(name, type, shape, bytes); !status.ok()) return status;
  const auto* begin = static_cast<const uint8_t*>(data);
  tensors_.push_back({.name = std::move(name),
                      .type = type,
                      .shape = std::move(shape),
                      .bytes = bytes,
                      .data = std::vector<uint8_t>(begin, begin + bytes)});
  return absl::OkStatus();
}

absl::Status GgufWriter::add_tensor_info(std::string name, const GgmlType& type, std::vector<int64_t> shape) {
  uint64_t bytes = 0;
  if (absl::Status status = check_new_tensor(name, type, shape, bytes); !status.ok()) return status;
  tensors_.push_back({.name = std::move(name), .type = type, .shape = std::move(shape), .bytes = bytes,
                      .streamed = true});
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> GgufWriter::alignment() const {
  const auto it =
      std::ranges::find(metadata_, kGgufAlignmentKey, &std::pair<std::string, GgufValue>::first);
  if (it == metadata_.end()) return kGgufDefaultAlignment;
  const std::optional<uint64_t> alignment = it->second.as_u64();
  if (!alignment || !std::has_single_bit(*alignment) || *alignment > kMaxAlignment) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(kGgufAlignmentKey), " is ", it->second.describe(),
                     ", expected a power of two up to ", kMaxAlignment));
  }
  return *alignment;
}

absl::Status GgufWriter::put_header(ByteWriter& out) const {
  if (version_ != 2 && version_ != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("GGUF version ", version_, " cannot be written (expected 2 or 3)"));
  }
  const absl::StatusOr<uint64_t> alignment = this->alignment();
  if (!alignment.ok()) return alignment.status();
  out.put_bytes(kGgufMagic);
  out.put<uint32_t>(version_);
  out.put<uint64_t>(tensors_.size());
  out.put<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    put_string(out, key);
    out.put<uint32_t>(static_cast<uint32_t>(value.type()));
    if (absl::Status status = put_value(out, value, key); !status.ok()) return status;
  }
  uint64_t offset = 0;
  for (const Tensor& tensor : tensors_) {
    put_string(out, tensor.name);
    out.put<uint32_t>(static_cast<uint32_t>(tensor.shape.size()));
    // GGUF lists ne[0], the innermost dim, first.
    for (auto dim = tensor.shape.rbegin(); dim != tensor.shape.rend(); ++dim) {
      out.put<uint64_t>(static_cast<uint64_t>(*dim));
    }
    out.put<uint32_t>(tensor.type.id);
    out.put<uint64_t>(offset);
    offset = *align_up(offset + tensor.bytes, *alignment);
  }
  out.pad_to(*alignment);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> GgufWriter::header() const {
  ByteWriter out;
  if (absl::Status status = put_header(out); !status.ok()) return status;
  return std::move(out).bytes();
}

absl::StatusOr<std::vector<uint8_t>> GgufWriter::serialize() const {
  for (const Tensor& tensor : tensors_) {
    if (tensor.streamed) {
      return absl::FailedPreconditionError(
          absl::StrCat("tensor '", tensor.name, "' has no data here: stream it after header()"));
    }
  }
  ByteWriter out;
  if (absl::Status status = put_header(out); !status.ok()) return status;
  const uint64_t alignment = *this->alignment();
  for (const Tensor& tensor : tensors_) {
    out.pad_to(alignment);
    out.put_bytes(tensor.data);
  }
  out.pad_to(alignment);
  return std::move(out).bytes();
}

absl::Status GgufWriter::write(const std::string& path) const {
  const absl::StatusOr<std::vector<uint8_t>> bytes = serialize();
  if (!bytes.ok())
    return absl::Status(bytes.status().code(), absl::StrCat(path, ": ", bytes.status().message()));
  return write_file_atomically(path, {*bytes});
}

}  // namespace kiln::frontend
