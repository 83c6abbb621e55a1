#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace kiln::frontend {

// GGUF metadata value types, numbered as in the file.
enum class GgufType : uint32_t {
  u8 = 0,
  i8 = 1,
  u16 = 2,
  i16 = 3,
  u32 = 4,
  i32 = 5,
  f32 = 6,
  boolean = 7,
  string = 8,
  array = 9,
  u64 = 10,
  i64 = 11,
  f64 = 12,
};

// "u32", "string", "array", ...
std::string_view gguf_type_name(GgufType type);

// One metadata value. It keeps the type the file gave it, but integers hold
// their value widened to 64 bits and floats as a double (exact for f32), so
// the as_...() accessors answer for any width. Arrays hold values of one
// element type, which may itself be array.
class GgufValue {
 public:
  static GgufValue u8(uint8_t value) { return {GgufType::u8, uint64_t{value}}; }
  static GgufValue i8(int8_t value) { return {GgufType::i8, int64_t{value}}; }
  static GgufValue u16(uint16_t value) { return {GgufType::u16, uint64_t{value}}; }
  static GgufValue i16(int16_t value) { return {GgufType::i16, int64_t{value}}; }
  static GgufValue u32(uint32_t value) { return {GgufType::u32, uint64_t{value}}; }
  static GgufValue i32(int32_t value) { return {GgufType::i32, int64_t{value}}; }
  static GgufValue u64(uint64_t value) { return {GgufType::u64, value}; }
  static GgufValue i64(int64_t value) { return {GgufType::i64, value}; }
  static GgufValue f32(float value) { return {GgufType::f32, double{value}}; }
  static GgufValue f64(double value) { return {GgufType::f64, value}; }
  static GgufValue boolean(bool value) { return {GgufType::boolean, value}; }
  static GgufValue string(std::string value) { return {GgufType::string, std::move(value)}; }
  // Every element must have type `element_type`.
  static GgufValue array(GgufType element_type, std::vector<GgufValue> elements);
  static GgufValue string_array(const std::vector<std::string>& values);
  static GgufValue f32_array(const std::vector<float>& values);
  static GgufValue i32_array(const std::vector<int32_t>& values);

  GgufType type() const { return type_; }
  GgufType element_type() const { return element_type_; }  // arrays only

  // Any integer type whose value fits.
  std::optional<uint64_t> as_u64() const;
  std::optional<int64_t> as_i64() const;
  // Any integer or float type.
  std::optional<double> as_f64() const;
  std::optional<bool> as_bool() const;
  // nullptr unless the value is of that type.
  const std::string* as_string() const { return std::get_if<std::string>(&payload_); }
  const std::vector<GgufValue>* as_array() const {
    return std::get_if<std::vector<GgufValue>>(&payload_);
  }

  // For messages: "i32 -3", "bool true", "a string", "an array of 4 f32".
  std::string describe() const;

 private:
  using Payload =
      std::variant<uint64_t, int64_t, double, bool, std::string, std::vector<GgufValue>>;

  GgufValue(GgufType type, Payload payload) : type_(type), payload_(std::move(payload)) {}

  GgufType type_;
  GgufType element_type_ = GgufType::u8;
  Payload payload_;
};

}  // namespace kiln::frontend
