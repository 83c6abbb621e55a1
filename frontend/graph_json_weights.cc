#include "frontend/graph_json_weights.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "absl/strings/str_cat.h"
#include "frontend/npy.h"
#include "frontend/tensor_data.h"

namespace kiln::frontend::graph_json {
namespace {

// Writes one inline number as the declared dtype, little-endian, at `out`.
// Fails (naming `where`) when the number does not fit the dtype.
using StoreFn = absl::Status (*)(const Json& number, const std::string& where, uint8_t* out);

absl::Status store_f32(const Json& number, const std::string&, uint8_t* out) {
  const float value = static_cast<float>(number.get<double>());
  std::memcpy(out, &value, sizeof(value));
  return absl::OkStatus();
}

absl::Status store_f16(const Json& number, const std::string&, uint8_t* out) {
  const uint16_t bits = ir::f32_to_f16(static_cast<float>(number.get<double>()));
  std::memcpy(out, &bits, sizeof(bits));
  return absl::OkStatus();
}

absl::Status store_bf16(const Json& number, const std::string&, uint8_t* out) {
  const uint16_t bits = ir::f32_to_bf16(static_cast<float>(number.get<double>()));
  std::memcpy(out, &bits, sizeof(bits));
  return absl::OkStatus();
}

absl::Status store_i32(const Json& number, const std::string& where, uint8_t* out) {
  absl::StatusOr<int64_t> value = as_int64(number, where);
  const bool fits = value.ok() && *value >= std::numeric_limits<int32_t>::min() &&
                    *value <= std::numeric_limits<int32_t>::max();
  if (!fits) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": expected an i32 integer, got ", brief(number)));
  }
  const int32_t narrow = static_cast<int32_t>(*value);
  std::memcpy(out, &narrow, sizeof(narrow));
  return absl::OkStatus();
}

struct InlineEncoder {
  ir::DType dtype;
  StoreFn store;
};

constexpr InlineEncoder kInlineEncoders[] = {
    {ir::DType::f32, store_f32},
    {ir::DType::f16, store_f16},
    {ir::DType::bf16, store_bf16},
    {ir::DType::i32, store_i32},
};

// Collects the numbers of a nested array in row-major order, checking that
// level d holds exactly dims[d] elements.
absl::Status collect_nested(const Json& data, std::span<const int64_t> dims, const std::string& path,
                            std::vector<const Json*>& out) {
  if (dims.empty()) {
    if (!data.is_number()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": expected a number, got ", brief(data)));
    }
    out.push_back(&data);
    return absl::OkStatus();
  }
  if (!data.is_array() || static_cast<int64_t>(data.size()) != dims[0]) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected an array of ", dims[0], " elements, got ", brief(data)));
  }
  for (size_t i = 0; i < data.size(); ++i) {
    if (absl::Status s = collect_nested(data[i], dims.subspan(1), element_path(path, i), out); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// The numbers of `data`, which is either flat (every element a number, as
// many as the shape holds) or nested exactly as the shape.
absl::StatusOr<std::vector<const Json*>> collect_numbers(const Json& data, const std::vector<int64_t>& dims,
                                                         int64_t count, const std::string& path) {
  std::vector<const Json*> numbers;
  const bool flat =
      data.is_array() && std::all_of(data.begin(), data.end(), [](const Json& v) { return v.is_number(); });
  if (!flat) {
    if (absl::Status s = collect_nested(data, dims, path, numbers); !s.ok()) return s;
    return numbers;
  }
  if (static_cast<int64_t>(data.size()) != count) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": has ", data.size(), " values, shape ",
                                                   shape_string(dims), " needs ", count));
  }
  for (const Json& number : data) numbers.push_back(&number);
  return numbers;
}

std::vector<int64_t> static_dims(const ir::TensorType& type) {
  std::vector<int64_t> dims;
  for (const ir::Dim& dim : type.shape) dims.push_back(dim.value());
  return dims;
}

// A file's tensor must be exactly what the graph declares: no silent casts
// or reshapes of weight bytes.
absl::Status check_declared(const TensorData& tensor, const ir::TensorType& type, const std::string& source) {
  const std::vector<int64_t> declared = static_dims(type);
  if (tensor.dtype == type.dtype && tensor.shape == declared) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      source, " holds ", std::string(ir::dtype_name(tensor.dtype)), shape_string(tensor.shape),
      ", but the weight is declared ", std::string(ir::dtype_name(type.dtype)), shape_string(declared)));
}

ir::WeightData view_of(const TensorData& tensor, std::string source) {
  return {.owner = tensor.owner, .bytes = tensor.data, .size = tensor.bytes, .source = std::move(source)};
}

}  // namespace

absl::StatusOr<ir::WeightData> WeightLoader::load(const std::string& name, const ObjectReader& entry,
                                                  const ir::TensorType& type) {
  const int sources = entry.has("data") + entry.has("npy") + entry.has("safetensors");
  if (sources != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(entry.label(), ": give exactly one of \"data\", \"npy\" or \"safetensors\""));
  }
  absl::StatusOr<ir::WeightData> data = entry.has("data") ? from_inline(name, entry, type)
                                        : entry.has("npy") ? from_npy(entry, type)
                                                           : from_safetensors(entry, type);
  if (!data.ok()) {
    return absl::Status(data.status().code(), absl::StrCat(entry.label(), ": ", std::string(data.status().message())));
  }
  return data;
}

absl::StatusOr<ir::WeightData> WeightLoader::from_inline(const std::string& name, const ObjectReader& entry,
                                                         const ir::TensorType& type) const {
  const std::vector<int64_t> dims = static_dims(type);
  const std::optional<int64_t> count = element_count(dims);
  if (!count) return absl::InvalidArgumentError(absl::StrCat("shape ", shape_string(dims), " overflows"));
  absl::StatusOr<std::vector<const Json*>> numbers = collect_numbers(*entry.find("data"), dims, *count, "data");
  if (!numbers.ok()) return numbers.status();

  const auto* encoder = std::find_if(std::begin(kInlineEncoders), std::end(kInlineEncoders),
                                     [&](const InlineEncoder& e) { return e.dtype == type.dtype; });
  if (encoder == std::end(kInlineEncoders)) {
    return absl::UnimplementedError(absl::StrCat("inline data of dtype ", std::string(ir::dtype_name(type.dtype))));
  }
  const int64_t element_bytes = ir::dtype_bytes(type.dtype, 1);
  auto buffer = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(*count * element_bytes));
  for (size_t i = 0; i < numbers->size(); ++i) {
    const std::string where = absl::StrCat("data: value ", i);
    if (absl::Status s = encoder->store(*(*numbers)[i], where, buffer->data() + i * element_bytes); !s.ok()) return s;
  }
  return ir::WeightData{.owner = buffer,
                        .bytes = buffer->data(),
                        .size = buffer->size(),
                        .source = absl::StrCat(source_name_, ":", name)};
}

absl::StatusOr<ir::WeightData> WeightLoader::from_npy(const ObjectReader& entry, const ir::TensorType& type) const {
  absl::StatusOr<std::string> relative = entry.string("npy");
  if (!relative.ok()) return relative.status();
  const std::string path = resolve(*relative);
  absl::StatusOr<TensorData> tensor = read_npy(path);
  if (!tensor.ok()) return tensor.status();
  if (absl::Status s = check_declared(*tensor, type, path); !s.ok()) return s;
  return view_of(*tensor, path);
}

absl::StatusOr<ir::WeightData> WeightLoader::from_safetensors(const ObjectReader& entry, const ir::TensorType& type) {
  absl::StatusOr<ObjectReader> source =
      ObjectReader::open(*entry.find("safetensors"), "safetensors", {"file", "tensor"});
  if (!source.ok()) return source.status();
  absl::StatusOr<std::string> file = source->string("file");
  if (!file.ok()) return file.status();
  absl::StatusOr<std::string> tensor_name = source->string("tensor");
  if (!tensor_name.ok()) return tensor_name.status();

  const std::string path = resolve(*file);
  auto it = safetensors_.find(path);
  if (it == safetensors_.end()) {
    absl::StatusOr<SafetensorsFile> opened = SafetensorsFile::open(path);
    if (!opened.ok()) return opened.status();
    it = safetensors_.emplace(path, *std::move(opened)).first;
  }
  absl::StatusOr<TensorData> tensor = it->second.tensor(*tensor_name);
  if (!tensor.ok()) return tensor.status();
  const std::string where = absl::StrCat(path, ":", *tensor_name);
  if (absl::Status s = check_declared(*tensor, type, where); !s.ok()) return s;
  return view_of(*tensor, where);
}

std::string WeightLoader::resolve(const std::string& path) const {
  const std::filesystem::path file(path);
  if (file.is_absolute() || base_dir_.empty()) return path;
  return (std::filesystem::path(base_dir_) / file).lexically_normal().string();
}

}  // namespace kiln::frontend::graph_json
