#include "frontend/tokenizer_json_fields.h"

#include "absl/strings/str_cat.h"

namespace kiln::frontend {

absl::Status TokenizerJsonFields::error(const std::string& where, std::string_view what) const {
  return absl::InvalidArgumentError(absl::StrCat(path_, ": ", where, ": ", std::string(what)));
}

absl::Status TokenizerJsonFields::unsupported(const std::string& where,
                                              std::string_view what) const {
  return error(where, absl::StrCat(std::string(what), " is not supported"));
}

const TokenizerJsonFields::Json* TokenizerJsonFields::optional(const Json& object,
                                                               std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::StatusOr<std::string> TokenizerJsonFields::string(const Json& object, std::string_view key,
                                                        const std::string& where) const {
  const Json* value = optional(object, key);
  if (value == nullptr) return error(where, absl::StrCat("no field '", std::string(key), "'"));
  if (!value->is_string()) {
    return error(where, absl::StrCat("'", std::string(key), "' is not a string"));
  }
  return value->get<std::string>();
}

absl::StatusOr<bool> TokenizerJsonFields::boolean(const Json& object, std::string_view key,
                                                  bool fallback, const std::string& where) const {
  const Json* value = optional(object, key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) {
    return error(where, absl::StrCat("'", std::string(key), "' is not true or false"));
  }
  return value->get<bool>();
}

absl::Status TokenizerJsonFields::flags(
    const Json& object, std::initializer_list<std::pair<std::string_view, bool*>> flags,
    const std::string& where) const {
  for (const auto& [key, flag] : flags) {
    absl::StatusOr<bool> value = boolean(object, key, false, where);
    if (!value.ok()) return value.status();
    *flag = *value;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TokenizerJsonFields::type(const Json& object,
                                                      const std::string& where) const {
  if (!object.is_object()) return error(where, "expected an object");
  return string(object, "type", where);
}

absl::StatusOr<std::string> TokenizerJsonFields::pattern(const Json& object,
                                                         const std::string& where,
                                                         bool& out_is_regex) const {
  const Json* pattern = optional(object, "pattern");
  if (pattern == nullptr) return error(where, "no field 'pattern'");
  for (const auto& [key, is_regex] : {std::pair{"String", false}, std::pair{"Regex", true}}) {
    const Json* value = optional(*pattern, key);
    if (value != nullptr && value->is_string()) {
      out_is_regex = is_regex;
      return value->get<std::string>();
    }
  }
  return error(where, "pattern is neither {\"String\": ...} nor {\"Regex\": ...}");
}

absl::Status TokenizerJsonFields::for_each(
    const Json& object, std::string_view key, const std::string& where,
    const std::function<absl::Status(const Json&, const std::string&)>& read) const {
  const Json* array = optional(object, key);
  if (array == nullptr || !array->is_array()) {
    return error(where, absl::StrCat("expected an array '", std::string(key), "'"));
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const absl::Status status =
        read((*array)[i], absl::StrCat(where, ".", std::string(key), "[", i, "]"));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace kiln::frontend
