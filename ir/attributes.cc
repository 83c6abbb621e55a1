#include "ir/attributes.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::ir {
namespace {

std::string real_to_string(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string text(buffer, end);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

struct Printer {
  std::string operator()(bool v) const { return v ? "true" : "false"; }
  std::string operator()(int64_t v) const { return std::to_string(v); }
  std::string operator()(double v) const { return real_to_string(v); }
  std::string operator()(const std::string& v) const { return absl::StrCat("\"", v, "\""); }
  std::string operator()(const std::vector<int64_t>& v) const {
    return absl::StrCat("[", absl::StrJoin(v, ", "), "]");
  }
  std::string operator()(const Shape& v) const { return shape_to_string(v); }
};

}  // namespace

const char* attr_type_name(AttrType type) {
  switch (type) {
    case AttrType::boolean: return "bool";
    case AttrType::integer: return "int";
    case AttrType::real: return "real";
    case AttrType::string: return "string";
    case AttrType::ints: return "int list";
    case AttrType::shape: return "shape";
  }
  return "?";
}

AttrType attr_type_of(const AttrValue& value) { return static_cast<AttrType>(value.index()); }

std::string attr_to_string(const AttrValue& value) { return std::visit(Printer{}, value); }

}  // namespace kiln::ir
