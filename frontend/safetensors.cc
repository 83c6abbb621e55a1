#include "frontend/safetensors.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "frontend/byte_reader.h"
#include "frontend/checked_math.h"
#include "frontend/quoted_text.h"

namespace kiln::frontend {
namespace {

using json = nlohmann::json;

constexpr std::string_view kMetadataKey = "__metadata__";
constexpr std::string_view kSingleFile = "model.safetensors";
constexpr std::string_view kIndexFile = "model.safetensors.index.json";

// Every dtype the safetensors format defines, with its width in bits, so that
// open() can check the size of tensors kiln does not read; those kiln reads
// carry their ir::DType.
struct SafetensorsDType {
  std::string_view name;
  uint64_t bits;
  std::optional<ir::DType> dtype;
};

constexpr auto kDTypes = std::to_array<SafetensorsDType>({
    {"F32", 32, ir::DType::f32},  {"F16", 16, ir::DType::f16},  {"BF16", 16, ir::DType::bf16},
    {"I32", 32, ir::DType::i32},  {"BOOL", 8, std::nullopt},    {"U8", 8, std::nullopt},
    {"I8", 8, std::nullopt},      {"F8_E5M2", 8, std::nullopt}, {"F8_E4M3", 8, std::nullopt},
    {"F8_E8M0", 8, std::nullopt}, {"I16", 16, std::nullopt},    {"U16", 16, std::nullopt},
    {"U32", 32, std::nullopt},    {"I64", 64, std::nullopt},    {"U64", 64, std::nullopt},
    {"F64", 64, std::nullopt},    {"C64", 64, std::nullopt},    {"F4", 4, std::nullopt},
    {"F6_E2M3", 6, std::nullopt}, {"F6_E3M2", 6, std::nullopt},
});

const SafetensorsDType* find_dtype(std::string_view name) {
  const auto it = std::ranges::find(kDTypes, name, &SafetensorsDType::name);
  return it == kDTypes.end() ? nullptr : &*it;
}

// nlohmann reports errors by exception; none leaves this function.
absl::StatusOr<json> parse_json(const std::string& path, std::string_view what,
                                std::string_view text) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", std::string(what),
                     " is not valid JSON: ", std::string(e.what()).substr(0, 4 * kQuotedTextLimit)));
  }
}

// A JSON array of integers in [0, 2^63), as shapes and offsets are.
std::optional<std::vector<int64_t>> non_negative_ints(const json& value) {
  if (!value.is_array()) return std::nullopt;
  std::vector<int64_t> ints;
  ints.reserve(value.size());
  for (const json& item : value) {
    if (!item.is_number_unsigned()) return std::nullopt;
    const uint64_t number = item.get<uint64_t>();
    if (number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    ints.push_back(static_cast<int64_t>(number));
  }
  return ints;
}

// ---- SafetensorsFile ------------------------------------------------------

// Checks that [begin, end) holds exactly dtype × shape bytes.
absl::Status check_entry_size(const std::string& where, const SafetensorsTensorInfo& entry) {
  const SafetensorsDType* dtype = find_dtype(entry.dtype);
  if (dtype == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " has unknown dtype ", quoted_text(entry.dtype)));
  }
  const std::optional<int64_t> elements = element_count(entry.shape);
  const std::optional<uint64_t> bits =
      elements ? checked_mul(static_cast<uint64_t>(*elements), dtype->bits) : std::nullopt;
  if (!bits) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": shape ", shape_string(entry.shape),
                                                   " of ", entry.dtype, " overflows"));
  }
  if (*bits % 8 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": shape ", shape_string(entry.shape),
                                                   " of ", entry.dtype,
                                                   " is not a whole number of bytes"));
  }
  if (entry.end - entry.begin != *bits / 8) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": data_offsets [", entry.begin, ", ",
                                                   entry.end, ") hold ", entry.end - entry.begin,
                                                   " bytes, but shape ", shape_string(entry.shape),
                                                   " of ", entry.dtype, " needs ", *bits / 8));
  }
  return absl::OkStatus();
}

absl::StatusOr<SafetensorsTensorInfo> parse_entry(const std::string& path, const std::string& name,
                                                  const json& value) {
  const std::string where = absl::StrCat(path, ": tensor ", quoted_text(name));
  if (!value.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected an object of dtype, shape and data_offsets"));
  }
  const auto dtype = value.find("dtype");
  if (dtype == value.end() || !dtype->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": 'dtype' must be a string"));
  }
  const auto shape_field = value.find("shape");
  std::optional<std::vector<int64_t>> shape;
  if (shape_field != value.end()) shape = non_negative_ints(*shape_field);
  if (!shape) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": 'shape' must be an array of non-negative integers"));
  }
  const auto offsets_field = value.find("data_offsets");
  std::optional<std::vector<int64_t>> offsets;
  if (offsets_field != value.end()) offsets = non_negative_ints(*offsets_field);
  if (!offsets || offsets->size() != 2 || (*offsets)[1] < (*offsets)[0]) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": 'data_offsets' must be [begin, end] with begin <= end"));
  }
  SafetensorsTensorInfo entry{.dtype = dtype->get<std::string>(),
                              .shape = *std::move(shape),
                              .begin = static_cast<uint64_t>((*offsets)[0]),
                              .end = static_cast<uint64_t>((*offsets)[1])};
  if (absl::Status size = check_entry_size(where, entry); !size.ok()) return size;
  return entry;
}

// Tensors must lie back to back in offset order and fill the data section,
// as the reference implementation requires: no gaps, overlaps or trailing
// bytes.
absl::Status check_layout(const std::string& path, const SafetensorsFile::TensorMap& entries,
                          uint64_t data_bytes) {
  std::vector<std::pair<const std::string*, const SafetensorsTensorInfo*>> by_offset;
  by_offset.reserve(entries.size());
  for (const auto& [name, entry] : entries) by_offset.emplace_back(&name, &entry);
  std::ranges::sort(by_offset, [](const auto& a, const auto& b) {
    return std::pair(a.second->begin, a.second->end) < std::pair(b.second->begin, b.second->end);
  });
  uint64_t expected = 0;
  for (const auto& [name, entry] : by_offset) {
    if (entry->begin != expected) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tensor ", quoted_text(*name), ": data_offsets begin at ", entry->begin,
                       ", expected ", expected, " (the end of the previous tensor)"));
    }
    expected = entry->end;
  }
  if (expected != data_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": the tensors hold ", expected, " bytes, but the data section has ", data_bytes));
  }
  return absl::OkStatus();
}

absl::StatusOr<SafetensorsFile::TensorMap> parse_header(const std::string& path,
                                                        const json& header) {
  if (!header.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the header is not a JSON object"));
  }
  SafetensorsFile::TensorMap entries;
  for (const auto& item : header.items()) {
    if (item.key() == kMetadataKey) continue;
    absl::StatusOr<SafetensorsTensorInfo> entry = parse_entry(path, item.key(), item.value());
    if (!entry.ok()) return entry.status();
    entries.emplace(item.key(), *std::move(entry));
  }
  return entries;
}

}  // namespace

SafetensorsFile::SafetensorsFile(std::shared_ptr<const MappedFile> file, uint64_t data_start,
                                 TensorMap tensors)
    : file_(std::move(file)), data_start_(data_start), tensors_(std::move(tensors)) {}

absl::StatusOr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::open(path);
  if (!file.ok()) return file.status();
  return from_file(*std::move(file));
}

absl::StatusOr<SafetensorsFile> SafetensorsFile::from_file(std::shared_ptr<const MappedFile> file) {
  const std::string& path = file->path();
  ByteReader reader(path, file->bytes());
  const absl::StatusOr<uint64_t> header_bytes = reader.read<uint64_t>("the header length");
  if (!header_bytes.ok()) return header_bytes.status();
  const absl::StatusOr<std::string_view> text = reader.read_text(*header_bytes, "the header");
  if (!text.ok()) return text.status();
  const absl::StatusOr<json> header = parse_json(path, "the header", *text);
  if (!header.ok()) return header.status();
  absl::StatusOr<TensorMap> tensors = parse_header(path, *header);
  if (!tensors.ok()) return tensors.status();
  if (absl::Status layout = check_layout(path, *tensors, reader.remaining()); !layout.ok()) {
    return layout;
  }
  return SafetensorsFile(std::move(file), reader.offset(), *std::move(tensors));
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const auto& [name, info] : tensors_) names.push_back(name);
  return names;
}

absl::StatusOr<TensorData> SafetensorsFile::tensor(std::string_view name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    return absl::NotFoundError(absl::StrCat(path(), ": no tensor '", std::string(name), "'"));
  }
  const SafetensorsTensorInfo& info = it->second;
  // open() refused dtypes missing from the table.
  const std::optional<ir::DType> dtype = find_dtype(info.dtype)->dtype;
  if (!dtype) {
    return absl::UnimplementedError(
        absl::StrCat(path(), ": tensor ", quoted_text(it->first), " has dtype ", info.dtype,
                     ", which kiln does not support yet (it reads F32, F16, BF16 and I32)"));
  }
  return map_tensor(file_, it->first, *dtype, info.shape, data_start_ + info.begin);
}

// ---- SafetensorsCollection ------------------------------------------------

namespace {

// weight_map: tensor name -> shard file name, each shard in the same folder.
absl::StatusOr<std::map<std::string, std::string>> parse_weight_map(const std::string& path,
                                                                    const json& index) {
  const auto weight_map = index.is_object() ? index.find("weight_map") : index.end();
  if (weight_map == index.end() || !weight_map->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected an object with a 'weight_map'"));
  }
  std::map<std::string, std::string> shards;
  for (const auto& item : weight_map->items()) {
    const std::string* file = item.value().get_ptr<const std::string*>();
    if (file == nullptr || file->empty() || *file == "." || *file == ".." ||
        file->find('/') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": weight_map entry for ", quoted_text(item.key()),
          " must be the file name of a shard in the same folder, found ",
          item.value().dump().substr(0, kQuotedTextLimit)));
    }
    shards.emplace(item.key(), *file);
  }
  return shards;
}

}  // namespace

SafetensorsCollection::SafetensorsCollection(std::string dir, std::vector<SafetensorsFile> shards,
                                             std::map<std::string, size_t, std::less<>> shard_of)
    : dir_(std::move(dir)), shards_(std::move(shards)), shard_of_(std::move(shard_of)) {}

absl::StatusOr<SafetensorsCollection> SafetensorsCollection::open(const std::string& dir) {
  const std::filesystem::path folder(dir);
  absl::StatusOr<SafetensorsFile> single = SafetensorsFile::open(folder / kSingleFile);
  if (single.ok()) {
    std::map<std::string, size_t, std::less<>> shard_of;
    for (std::string& name : single->names()) shard_of.emplace(std::move(name), 0);
    std::vector<SafetensorsFile> shards;
    shards.push_back(*std::move(single));
    return SafetensorsCollection(dir, std::move(shards), std::move(shard_of));
  }
  if (!absl::IsNotFound(single.status())) return single.status();

  const std::string index_path = folder / kIndexFile;
  absl::StatusOr<std::shared_ptr<const MappedFile>> index_file = MappedFile::open(index_path);
  if (absl::IsNotFound(index_file.status())) {
    return absl::NotFoundError(absl::StrCat(dir, ": holds neither ", std::string(kSingleFile),
                                            " nor ", std::string(kIndexFile)));
  }
  if (!index_file.ok()) return index_file.status();
  const std::span<const uint8_t> bytes = (*index_file)->bytes();
  const absl::StatusOr<json> index =
      parse_json(index_path, "the index",
                 std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  if (!index.ok()) return index.status();
  const absl::StatusOr<std::map<std::string, std::string>> weight_map =
      parse_weight_map(index_path, *index);
  if (!weight_map.ok()) return weight_map.status();
  return open_shards(dir, index_path, *weight_map);
}

absl::StatusOr<SafetensorsCollection> SafetensorsCollection::open_shards(
    const std::string& dir, const std::string& index_path,
    const std::map<std::string, std::string>& weight_map) {
  std::vector<SafetensorsFile> shards;
  std::map<std::string, size_t> shard_by_file;
  std::map<std::string, size_t, std::less<>> shard_of;
  for (const auto& [tensor, file] : weight_map) {
    const auto [it, added] = shard_by_file.try_emplace(file, shards.size());
    if (added) {
      absl::StatusOr<SafetensorsFile> shard =
          SafetensorsFile::open(std::filesystem::path(dir) / file);
      if (!shard.ok()) return shard.status();
      shards.push_back(*std::move(shard));
    }
    if (!shards[it->second].contains(tensor)) {
      return absl::InvalidArgumentError(absl::StrCat(index_path, ": weight_map puts tensor ",
                                                     quoted_text(tensor), " in ", quoted_text(file),
                                                     ", which does not hold it"));
    }
    shard_of.emplace(tensor, it->second);
  }
  return SafetensorsCollection(dir, std::move(shards), std::move(shard_of));
}

std::vector<std::string> SafetensorsCollection::names() const {
  std::vector<std::string> names;
  names.reserve(shard_of_.size());
  for (const auto& [name, shard] : shard_of_) names.push_back(name);
  return names;
}

absl::StatusOr<TensorData> SafetensorsCollection::tensor(std::string_view name) const {
  const auto it = shard_of_.find(name);
  if (it == shard_of_.end()) {
    return absl::NotFoundError(absl::StrCat(dir_, ": no tensor '", std::string(name), "'"));
  }
  return shards_[it->second].tensor(name);
}

}  // namespace kiln::frontend
