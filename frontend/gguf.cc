#include "frontend/gguf.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "frontend/byte_reader.h"
#include "frontend/checked_math.h"
#include "frontend/quoted_text.h"

namespace kiln::frontend {
namespace {

// Nested arrays are legal but unused in practice; the bound keeps a hostile
// file from exhausting the stack.
constexpr uint32_t kMaxArrayNesting = 16;

// The fewest bytes a tensor info or a key/value pair can take. Counts in the
// header are checked against the bytes that follow before anything is
// allocated for them.
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;        // key length, type, a u8 value

// The fewest bytes one value of `type` takes: an array value is at least its
// element type and length, a string its length.
uint64_t min_value_bytes(GgufType type) {
  switch (type) {
    case GgufType::u8:
    case GgufType::i8:
    case GgufType::boolean: return 1;
    case GgufType::u16:
    case GgufType::i16: return 2;
    case GgufType::u32:
    case GgufType::i32:
    case GgufType::f32: return 4;
    case GgufType::u64:
    case GgufType::i64:
    case GgufType::f64:
    case GgufType::string: return 8;
    case GgufType::array: return 12;
  }
  return 1;
}

// Reads the parts of a GGUF file in order. Messages name the file and the
// key or tensor being read.
class GgufParser {
 public:
  explicit GgufParser(const MappedFile& file) : path_(file.path()), reader_(path_, file.bytes()) {}

  uint64_t offset() const { return reader_.offset(); }

  // The magic and version; returns the version.
  absl::StatusOr<uint32_t> read_preamble();
  // A u64 count of items of at least `min_item_bytes` each, checked against
  // the bytes left.
  absl::StatusOr<uint64_t> read_count(uint64_t min_item_bytes, std::string_view what);
  absl::StatusOr<GgufFile::Metadata> read_metadata(uint64_t count);
  absl::StatusOr<GgufTensorInfo> read_tensor_info(uint64_t index, uint64_t alignment);

 private:
  absl::Status error(std::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", std::string(message)));
  }
  absl::StatusOr<std::string> read_string(std::string_view what);
  absl::StatusOr<GgufType> read_type(std::string_view what);
  absl::StatusOr<GgufValue> read_value(GgufType type, const std::string& what, uint32_t depth);
  absl::StatusOr<GgufValue> read_bool(const std::string& what);
  absl::StatusOr<GgufValue> read_array(const std::string& what, uint32_t depth);
  absl::StatusOr<std::vector<int64_t>> read_shape(const std::string& what);
  template <typename T>
  absl::StatusOr<GgufValue> read_number(const std::string& what, GgufValue (*make)(T));

  const std::string& path_;
  ByteReader reader_;
};

absl::StatusOr<uint32_t> GgufParser::read_preamble() {
  const absl::StatusOr<std::string_view> magic = reader_.read_text(kGgufMagic.size(), "the magic");
  if (!magic.ok()) return magic.status();
  if (*magic != kGgufMagic) {
    return error(absl::StrCat("not a GGUF file: the magic is \"",
                              absl::CHexEscape(std::string(*magic)), "\", expected \"GGUF\""));
  }
  const absl::StatusOr<uint32_t> version = reader_.read<uint32_t>("the version");
  if (!version.ok()) return version.status();
  if (*version == 2 || *version == 3) return *version;
  const uint32_t swapped = __builtin_bswap32(*version);
  if (swapped == 2 || swapped == 3) {
    return absl::UnimplementedError(
        absl::StrCat(path_, ": a big-endian GGUF file; kiln reads little-endian ones only"));
  }
  return absl::UnimplementedError(
      absl::StrCat(path_, ": GGUF version ", *version, " is not supported (expected 2 or 3)"));
}

absl::StatusOr<uint64_t> GgufParser::read_count(uint64_t min_item_bytes, std::string_view what) {
  const absl::StatusOr<uint64_t> count = reader_.read<uint64_t>(what);
  if (!count.ok()) return count.status();
  const uint64_t most = reader_.remaining() / min_item_bytes;
  if (*count > most) {
    return error(absl::StrCat(std::string(what), " is ", *count, ", but the ", reader_.remaining(),
                              " bytes left hold at most ", most));
  }
  return *count;
}

absl::StatusOr<std::string> GgufParser::read_string(std::string_view what) {
  const absl::StatusOr<uint64_t> length = reader_.read<uint64_t>(what);
  if (!length.ok()) return length.status();
  const absl::StatusOr<std::string_view> text = reader_.read_text(*length, what);
  if (!text.ok()) return text.status();
  return std::string(*text);
}

absl::StatusOr<GgufType> GgufParser::read_type(std::string_view what) {
  const absl::StatusOr<uint32_t> id = reader_.read<uint32_t>(what);
  if (!id.ok()) return id.status();
  if (*id > static_cast<uint32_t>(GgufType::f64)) {
    return error(
        absl::StrCat(std::string(what), " is ", *id, ", expected a GGUF value type (0 to 12)"));
  }
  return static_cast<GgufType>(*id);
}

template <typename T>
absl::StatusOr<GgufValue> GgufParser::read_number(const std::string& what, GgufValue (*make)(T)) {
  const absl::StatusOr<T> value = reader_.read<T>(what);
  if (!value.ok()) return value.status();
  return make(*value);
}

absl::StatusOr<GgufValue> GgufParser::read_bool(const std::string& what) {
  const absl::StatusOr<uint8_t> value = reader_.read<uint8_t>(what);
  if (!value.ok()) return value.status();
  if (*value > 1) return error(absl::StrCat(what, " is ", *value, ", expected a bool (0 or 1)"));
  return GgufValue::boolean(*value == 1);
}

absl::StatusOr<GgufValue> GgufParser::read_value(GgufType type, const std::string& what,
                                                 uint32_t depth) {
  switch (type) {
    case GgufType::u8: return read_number(what, &GgufValue::u8);
    case GgufType::i8: return read_number(what, &GgufValue::i8);
    case GgufType::u16: return read_number(what, &GgufValue::u16);
    case GgufType::i16: return read_number(what, &GgufValue::i16);
    case GgufType::u32: return read_number(what, &GgufValue::u32);
    case GgufType::i32: return read_number(what, &GgufValue::i32);
    case GgufType::u64: return read_number(what, &GgufValue::u64);
    case GgufType::i64: return read_number(what, &GgufValue::i64);
    case GgufType::f32: return read_number(what, &GgufValue::f32);
    case GgufType::f64: return read_number(what, &GgufValue::f64);
    case GgufType::boolean: return read_bool(what);
    case GgufType::array: return read_array(what, depth);
    case GgufType::string: {
      absl::StatusOr<std::string> text = read_string(what);
      if (!text.ok()) return text.status();
      return GgufValue::string(*std::move(text));
    }
  }
  return error(absl::StrCat(what, " has an unknown type"));  // read_type() admits none
}

absl::StatusOr<GgufValue> GgufParser::read_array(const std::string& what, uint32_t depth) {
  if (depth == kMaxArrayNesting) {
    return error(absl::StrCat(what, " nests arrays more than ", kMaxArrayNesting, " deep"));
  }
  const absl::StatusOr<GgufType> element_type =
      read_type(absl::StrCat("the element type of ", what));
  if (!element_type.ok()) return element_type.status();
  const absl::StatusOr<uint64_t> count =
      read_count(min_value_bytes(*element_type), absl::StrCat("the length of ", what));
  if (!count.ok()) return count.status();
  std::vector<GgufValue> elements;
  elements.reserve(*count);
  for (uint64_t i = 0; i < *count; ++i) {
    absl::StatusOr<GgufValue> element = read_value(*element_type, what, depth + 1);
    if (!element.ok()) return element.status();
    elements.push_back(*std::move(element));
  }
  return GgufValue::array(*element_type, std::move(elements));
}

absl::StatusOr<GgufFile::Metadata> GgufParser::read_metadata(uint64_t count) {
  GgufFile::Metadata metadata;
  for (uint64_t i = 0; i < count; ++i) {
    absl::StatusOr<std::string> key = read_string(absl::StrCat("the key of metadata entry ", i));
    if (!key.ok()) return key.status();
    const absl::StatusOr<GgufType> type = read_type(absl::StrCat("the type of ", quoted_text(*key)));
    if (!type.ok()) return type.status();
    absl::StatusOr<GgufValue> value =
        read_value(*type, absl::StrCat("the value of ", quoted_text(*key)), 0);
    if (!value.ok()) return value.status();
    if (metadata.contains(*key)) return error(absl::StrCat("metadata key ", quoted_text(*key), " repeats"));
    metadata.emplace(*std::move(key), *std::move(value));
  }
  return metadata;
}

absl::StatusOr<std::vector<int64_t>> GgufParser::read_shape(const std::string& what) {
  const absl::StatusOr<uint32_t> n_dims =
      reader_.read<uint32_t>(absl::StrCat("the dim count of ", what));
  if (!n_dims.ok()) return n_dims.status();
  if (*n_dims > kGgufMaxDims) {
    return error(absl::StrCat(what, " has ", *n_dims, " dims, GGUF allows at most ", kGgufMaxDims));
  }
  // The file lists ne[0], the contiguous dim, first.
  std::vector<int64_t> shape(*n_dims);
  for (auto dim = shape.rbegin(); dim != shape.rend(); ++dim) {
    const absl::StatusOr<uint64_t> extent =
        reader_.read<uint64_t>(absl::StrCat("the dims of ", what));
    if (!extent.ok()) return extent.status();
    if (*extent > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return error(absl::StrCat(what, " has a dim of ", *extent, ", expected below 2^63"));
    }
    *dim = static_cast<int64_t>(*extent);
  }
  return shape;
}

absl::StatusOr<GgufTensorInfo> GgufParser::read_tensor_info(uint64_t index, uint64_t alignment) {
  absl::StatusOr<std::string> name = read_string(absl::StrCat("the name of tensor ", index));
  if (!name.ok()) return name.status();
  const std::string what = absl::StrCat("tensor ", quoted_text(*name));
  absl::StatusOr<std::vector<int64_t>> shape = read_shape(what);
  if (!shape.ok()) return shape.status();
  const absl::StatusOr<uint32_t> type_id =
      reader_.read<uint32_t>(absl::StrCat("the type of ", what));
  if (!type_id.ok()) return type_id.status();
  const GgmlType* type = find_ggml_type(*type_id);
  if (type == nullptr) return error(absl::StrCat(what, " has unknown type id ", *type_id));
  const absl::StatusOr<uint64_t> offset =
      reader_.read<uint64_t>(absl::StrCat("the offset of ", what));
  if (!offset.ok()) return offset.status();
  if (*offset % alignment != 0) {
    return error(absl::StrCat(what, ": data offset ", *offset,
                              " is not a multiple of the alignment ", alignment));
  }
  const absl::StatusOr<uint64_t> bytes = ggml_tensor_bytes(*type, *shape);
  if (!bytes.ok()) return error(absl::StrCat(what, ": ", bytes.status().message()));
  return GgufTensorInfo{.name = *std::move(name),
                        .shape = *std::move(shape),
                        .type = *type,
                        .offset = *offset,
                        .bytes = *bytes};
}

// general.alignment if the file sets it, else the default.
absl::StatusOr<uint64_t> alignment_of(const std::string& path, const GgufFile::Metadata& metadata) {
  const auto it = metadata.find(kGgufAlignmentKey);
  if (it == metadata.end()) return kGgufDefaultAlignment;
  const std::optional<uint64_t> alignment = it->second.as_u64();
  if (!alignment || !std::has_single_bit(*alignment)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", std::string(kGgufAlignmentKey),
                                                   " is ", it->second.describe(),
                                                   ", expected a power of two"));
  }
  return *alignment;
}

// Every tensor's bytes must lie inside the file, whether kiln reads its type or not.
absl::Status check_tensor_data(const MappedFile& file, const std::vector<GgufTensorInfo>& tensors,
                               uint64_t data_start) {
  for (const GgufTensorInfo& info : tensors) {
    const std::string what = absl::StrCat("tensor ", quoted_text(info.name));
    const std::optional<uint64_t> begin = checked_add(data_start, info.offset);
    if (!begin) {
      return absl::InvalidArgumentError(
          absl::StrCat(file.path(), ": ", what, ": data offset ", info.offset, " overflows"));
    }
    if (absl::Status in_file = file.check_range(*begin, info.bytes, what); !in_file.ok()) {
      return in_file;
    }
  }
  return absl::OkStatus();
}

// No two tensors may share bytes: a corrupt offset that aliases one tensor
// onto another would otherwise load silently. Runs after check_tensor_data,
// so offset + bytes cannot overflow.
absl::Status check_no_overlap(const std::string& path, const std::vector<GgufTensorInfo>& tensors) {
  std::vector<const GgufTensorInfo*> by_offset;
  for (const GgufTensorInfo& info : tensors) {
    if (info.bytes > 0) by_offset.push_back(&info);
  }
  std::ranges::sort(by_offset, {}, &GgufTensorInfo::offset);
  const GgufTensorInfo* furthest = nullptr;  // of the tensors so far, the one ending last
  const auto range = [](const GgufTensorInfo& info) {
    return absl::StrCat("[", info.offset, ", ", info.offset + info.bytes, ")");
  };
  for (const GgufTensorInfo* info : by_offset) {
    if (furthest != nullptr && info->offset < furthest->offset + furthest->bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": the data of tensor ", quoted_text(furthest->name), " ", range(*furthest), " and of tensor ",
          quoted_text(info->name), " ", range(*info), " overlap"));
    }
    if (furthest == nullptr || info->offset + info->bytes > furthest->offset + furthest->bytes) furthest = info;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, size_t, std::less<>>> index_by_name(
    const std::string& path, const std::vector<GgufTensorInfo>& tensors) {
  std::map<std::string, size_t, std::less<>> index;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!index.emplace(tensors[i].name, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tensor ", quoted_text(tensors[i].name), " appears twice"));
    }
  }
  return index;
}

}  // namespace

GgufFile::GgufFile(std::shared_ptr<const MappedFile> file, uint32_t version, uint64_t alignment,
                   Metadata metadata, std::vector<GgufTensorInfo> tensors,
                   std::map<std::string, size_t, std::less<>> tensor_index, uint64_t data_start)
    : file_(std::move(file)),
      version_(version),
      alignment_(alignment),
      metadata_(std::move(metadata)),
      tensors_(std::move(tensors)),
      tensor_index_(std::move(tensor_index)),
      data_start_(data_start) {}

absl::StatusOr<GgufFile> GgufFile::open(const std::string& path) {
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::open(path);
  if (!file.ok()) return file.status();
  return from_file(*std::move(file));
}

absl::StatusOr<GgufFile> GgufFile::from_file(std::shared_ptr<const MappedFile> file) {
  const std::string& path = file->path();
  GgufParser parser(*file);
  const absl::StatusOr<uint32_t> version = parser.read_preamble();
  if (!version.ok()) return version.status();
  const absl::StatusOr<uint64_t> tensor_count =
      parser.read_count(kMinTensorInfoBytes, "the tensor count");
  if (!tensor_count.ok()) return tensor_count.status();
  const absl::StatusOr<uint64_t> kv_count =
      parser.read_count(kMinKeyValueBytes, "the metadata count");
  if (!kv_count.ok()) return kv_count.status();
  absl::StatusOr<Metadata> metadata = parser.read_metadata(*kv_count);
  if (!metadata.ok()) return metadata.status();
  const absl::StatusOr<uint64_t> alignment = alignment_of(path, *metadata);
  if (!alignment.ok()) return alignment.status();

  std::vector<GgufTensorInfo> tensors;
  tensors.reserve(*tensor_count);
  for (uint64_t i = 0; i < *tensor_count; ++i) {
    absl::StatusOr<GgufTensorInfo> info = parser.read_tensor_info(i, *alignment);
    if (!info.ok()) return info.status();
    tensors.push_back(*std::move(info));
  }
  absl::StatusOr<std::map<std::string, size_t, std::less<>>> index = index_by_name(path, tensors);
  if (!index.ok()) return index.status();
  const std::optional<uint64_t> data_start = align_up(parser.offset(), *alignment);
  if (!data_start) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the data section start overflows"));
  }
  if (absl::Status data = check_tensor_data(*file, tensors, *data_start); !data.ok()) return data;
  if (absl::Status overlap = check_no_overlap(path, tensors); !overlap.ok()) return overlap;
  return GgufFile(std::move(file), *version, *alignment, *std::move(metadata), std::move(tensors),
                  *std::move(index), *data_start);
}

absl::StatusOr<TensorData> GgufFile::tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  if (it == tensor_index_.end()) {
    return absl::NotFoundError(absl::StrCat(path(), ": no tensor '", std::string(name), "'"));
  }
  const GgufTensorInfo& info = tensors_[it->second];
  if (!info.type.dtype) {
    return absl::UnimplementedError(absl::StrCat(path(), ": tensor ", quoted_text(info.name), " has type ",
                                                 std::string(info.type.name),
                                                 ", which kiln does not support yet"));
  }
  return map_tensor(file_, info.name, *info.type.dtype, info.shape, data_start_ + info.offset);
}

// ---- Metadata accessors ---------------------------------------------------

namespace {

absl::Status missing_key(const std::string& path, std::string_view key) {
  return absl::NotFoundError(absl::StrCat(path, ": no metadata key '", std::string(key), "'"));
}

absl::Status mismatch(const std::string& path, std::string_view key, const GgufValue& value,
                      std::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": metadata key '", std::string(key),
                                                 "' holds ", value.describe(), ", expected ",
                                                 std::string(expected)));
}

// `convert` answers nullopt when a value is not `expected`.
template <typename T, typename Convert>
absl::StatusOr<T> get_value(const GgufFile& file, std::string_view key, std::string_view expected,
                            Convert convert) {
  const GgufValue* value = file.find(key);
  if (value == nullptr) return missing_key(file.path(), key);
  std::optional<T> converted = convert(*value);
  if (!converted) return mismatch(file.path(), key, *value, expected);
  return *std::move(converted);
}

// `convert` answers nullopt when an element is not `expected_element`.
template <typename T, typename Convert>
absl::StatusOr<std::vector<T>> get_array(const GgufFile& file, std::string_view key,
                                         std::string_view expected,
                                         std::string_view expected_element, Convert convert) {
  const GgufValue* value = file.find(key);
  if (value == nullptr) return missing_key(file.path(), key);
  const std::vector<GgufValue>* elements = value->as_array();
  if (elements == nullptr) return mismatch(file.path(), key, *value, expected);
  std::vector<T> result;
  result.reserve(elements->size());
  for (size_t i = 0; i < elements->size(); ++i) {
    std::optional<T> element = convert((*elements)[i]);
    if (!element) {
      return absl::InvalidArgumentError(absl::StrCat(
          file.path(), ": metadata key '", std::string(key), "': element ", i, " holds ",
          (*elements)[i].describe(), ", expected ", std::string(expected_element)));
    }
    result.push_back(*std::move(element));
  }
  return result;
}

std::optional<std::string> to_string(const GgufValue& value) {
  const std::string* text = value.as_string();
  return text ? std::optional(*text) : std::nullopt;
}

std::optional<float> to_f32(const GgufValue& value) {
  const std::optional<double> number = value.as_f64();
  // A finite double beyond float's range has no float; casting it is undefined.
  if (!number ||
      (std::isfinite(*number) && std::abs(*number) > std::numeric_limits<float>::max())) {
    return std::nullopt;
  }
  return static_cast<float>(*number);
}

std::optional<int32_t> to_i32(const GgufValue& value) {
  const std::optional<int64_t> number = value.as_i64();
  if (!number || *number < std::numeric_limits<int32_t>::min() ||
      *number > std::numeric_limits<int32_t>::max()) {
    return std::nullopt;
  }
  return static_cast<int32_t>(*number);
}

}  // namespace

const GgufValue* GgufFile::find(std::string_view key) const {
  const auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

absl::StatusOr<std::string> GgufFile::get_string(std::string_view key) const {
  return get_value<std::string>(*this, key, "a string", to_string);
}

absl::StatusOr<uint64_t> GgufFile::get_u64(std::string_view key) const {
  return get_value<uint64_t>(*this, key, "a non-negative integer", std::mem_fn(&GgufValue::as_u64));
}

absl::StatusOr<int64_t> GgufFile::get_i64(std::string_view key) const {
  return get_value<int64_t>(*this, key, "an integer below 2^63", std::mem_fn(&GgufValue::as_i64));
}

absl::StatusOr<double> GgufFile::get_f64(std::string_view key) const {
  return get_value<double>(*this, key, "a number", std::mem_fn(&GgufValue::as_f64));
}

absl::StatusOr<bool> GgufFile::get_bool(std::string_view key) const {
  return get_value<bool>(*this, key, "a bool", std::mem_fn(&GgufValue::as_bool));
}

absl::StatusOr<std::vector<std::string>> GgufFile::get_string_array(std::string_view key) const {
  return get_array<std::string>(*this, key, "an array of strings", "a string", to_string);
}

absl::StatusOr<std::vector<float>> GgufFile::get_f32_array(std::string_view key) const {
  return get_array<float>(*this, key, "an array of numbers", "a number within f32 range", to_f32);
}

absl::StatusOr<std::vector<int32_t>> GgufFile::get_i32_array(std::string_view key) const {
  return get_array<int32_t>(*this, key, "an array of integers", "an integer within i32 range",
                            to_i32);
}

}  // namespace kiln::frontend
