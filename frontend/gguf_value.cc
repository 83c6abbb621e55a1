#include "frontend/gguf_value.h"

#include <array>
#include <limits>
#include <type_traits>

#include "absl/strings/str_cat.h"

namespace kiln::frontend {
namespace {

constexpr auto kTypeNames =
    std::to_array<std::string_view>({"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
                                     "string", "array", "u64", "i64", "f64"});

template <typename T>
GgufValue typed_array(GgufType element_type, const std::vector<T>& values, GgufValue (*make)(T)) {
  std::vector<GgufValue> elements;
  elements.reserve(values.size());
  for (const T& value : values) elements.push_back(make(value));
  return GgufValue::array(element_type, std::move(elements));
}

}  // namespace

std::string_view gguf_type_name(GgufType type) {
  const auto index = static_cast<size_t>(type);
  return index < kTypeNames.size() ? kTypeNames[index] : "unknown";
}

GgufValue GgufValue::array(GgufType element_type, std::vector<GgufValue> elements) {
  GgufValue value(GgufType::array, std::move(elements));
  value.element_type_ = element_type;
  return value;
}

GgufValue GgufValue::string_array(const std::vector<std::string>& values) {
  return typed_array(GgufType::string, values, &GgufValue::string);
}

GgufValue GgufValue::f32_array(const std::vector<float>& values) {
  return typed_array(GgufType::f32, values, &GgufValue::f32);
}

GgufValue GgufValue::i32_array(const std::vector<int32_t>& values) {
  return typed_array(GgufType::i32, values, &GgufValue::i32);
}

std::optional<uint64_t> GgufValue::as_u64() const {
  if (const uint64_t* value = std::get_if<uint64_t>(&payload_)) return *value;
  if (const int64_t* value = std::get_if<int64_t>(&payload_); value && *value >= 0) {
    return static_cast<uint64_t>(*value);
  }
  return std::nullopt;
}

std::optional<int64_t> GgufValue::as_i64() const {
  if (const int64_t* value = std::get_if<int64_t>(&payload_)) return *value;
  const uint64_t* value = std::get_if<uint64_t>(&payload_);
  if (value && *value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(*value);
  }
  return std::nullopt;
}

std::optional<double> GgufValue::as_f64() const {
  if (const double* value = std::get_if<double>(&payload_)) return *value;
  if (const uint64_t* value = std::get_if<uint64_t>(&payload_)) return static_cast<double>(*value);
  if (const int64_t* value = std::get_if<int64_t>(&payload_)) return static_cast<double>(*value);
  return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
  if (const bool* value = std::get_if<bool>(&payload_)) return *value;
  return std::nullopt;
}

std::string GgufValue::describe() const {
  return std::visit(
      [this](const auto& value) -> std::string {
        using T = std::decay_t<decltype(value)>;
        const std::string type(gguf_type_name(type_));
        if constexpr (std::is_same_v<T, std::string>) {
          return "a string";
        } else if constexpr (std::is_same_v<T, std::vector<GgufValue>>) {
          return absl::StrCat("an array of ", value.size(), " ",
                              std::string(gguf_type_name(element_type_)));
        } else if constexpr (std::is_same_v<T, bool>) {
          return absl::StrCat(type, value ? " true" : " false");
        } else {
          return absl::StrCat(type, " ", value);
        }
      },
      payload_);
}

}  // namespace kiln::frontend
