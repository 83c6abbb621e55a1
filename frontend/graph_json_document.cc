#include "frontend/graph_json_document.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::frontend::graph_json {
namespace {

using ParseEvent = Json::parse_event_t;

// Watches the parser's events and remembers the first key repeated within an
// object, with the path of that object. Arrays count their elements so the
// path can say "nodes[3].attrs".
class DuplicateKeyFinder {
 public:
  bool on_event(ParseEvent event, const Json& parsed) {
    switch (event) {
      case ParseEvent::object_start: frames_.emplace_back(/*is_object=*/true); break;
      case ParseEvent::array_start: frames_.emplace_back(/*is_object=*/false); break;
      case ParseEvent::key: on_key(parsed.get<std::string>()); break;
      case ParseEvent::object_end:
      case ParseEvent::array_end:
        frames_.pop_back();
        finish_element();
        break;
      case ParseEvent::value: finish_element(); break;
    }
    return true;  // keep everything; the finder only observes
  }
  const std::optional<std::string>& error() const { return error_; }

 private:
  struct Frame {
    explicit Frame(bool object) : is_object(object) {}
    bool is_object;
    std::set<std::string> keys;
    std::string key;   // the member being parsed, for objects
    size_t index = 0;  // the element being parsed, for arrays
  };

  void on_key(std::string key) {
    Frame& frame = frames_.back();
    if (!frame.keys.insert(key).second && !error_) {
      const std::string where = container_path();
      error_ = absl::StrCat(where, where.empty() ? "" : ": ", "duplicate key '", key, "'");
    }
    frame.key = std::move(key);
  }
  void finish_element() {
    if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
  }
  // The path of the innermost open container.
  std::string container_path() const {
    std::string path;
    for (size_t i = 0; i + 1 < frames_.size(); ++i) {
      path = frames_[i].is_object ? member_path(path, frames_[i].key) : element_path(path, frames_[i].index);
    }
    return path;
  }

  std::vector<Frame> frames_;
  std::optional<std::string> error_;
};

// nlohmann builds and copies nested values recursively, so a hostile
// document ("[[[[...") could exhaust the stack; kiln's format needs a few
// levels plus a weight's rank.
constexpr size_t kMaxNesting = 100;

// The byte offset where `text` opens its (kMaxNesting + 1)-th nested array or
// object, outside strings; nullopt when it never nests that deep.
std::optional<size_t> too_deep_at(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // skips the escaped character
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if ((c == '[' || c == '{') && ++depth > kMaxNesting) {
      return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

// nlohmann reports the byte offset just past the character it stopped at.
std::string line_and_column(std::string_view text, size_t byte) {
  const size_t end = std::min(byte == 0 ? 0 : byte - 1, text.size());
  const std::string_view before = text.substr(0, end);
  const size_t line = 1 + std::count(before.begin(), before.end(), '\n');
  const size_t line_start = before.rfind('\n');
  const size_t column = 1 + end - (line_start == std::string_view::npos ? 0 : line_start + 1);
  return absl::StrCat(line, ":", column);
}

// nlohmann's message minus its "[json.exception.parse_error.101] parse
// error at line 1, column 5: " preamble, which we print as LINE:COLUMN.
std::string parse_error_reason(const std::string& what) {
  const size_t column = what.find("column ");
  const size_t colon = column == std::string::npos ? column : what.find(": ", column);
  if (colon != std::string::npos) return what.substr(colon + 2);
  const size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

absl::Status expected(std::string_view path, std::string_view what, const Json& found) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(path), ": expected ", std::string(what), ", got ", brief(found)));
}

}  // namespace

absl::StatusOr<Json> parse_document(std::string_view text, const std::string& source_name) {
  if (std::optional<size_t> at = too_deep_at(text)) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ":", line_and_column(text, *at + 1),
                                                   ": JSON nested deeper than ", kMaxNesting, " levels"));
  }
  DuplicateKeyFinder finder;
  Json::parser_callback_t callback = [&finder](int, ParseEvent event, Json& parsed) {
    return finder.on_event(event, parsed);
  };
  Json document;
  try {
    document = Json::parse(text.begin(), text.end(), callback);
  } catch (const Json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ":", line_and_column(text, e.byte),
                                                   ": malformed JSON: ", parse_error_reason(e.what())));
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ": malformed JSON: ", e.what()));
  }
  if (finder.error()) return absl::InvalidArgumentError(absl::StrCat(source_name, ": ", *finder.error()));
  return document;
}

std::string member_path(std::string_view object_path, std::string_view key) {
  return object_path.empty() ? std::string(key) : absl::StrCat(std::string(object_path), ".", std::string(key));
}

std::string element_path(std::string_view array_path, size_t index) {
  return absl::StrCat(std::string(array_path), "[", index, "]");
}

std::string brief(const Json& value) {
  constexpr size_t kMaxChars = 40;
  // Only flat values are printed, so a hostile, deeply nested document
  // cannot make the printer recurse deeply.
  const bool flat = !value.is_structured() ||
                    std::none_of(value.begin(), value.end(), [](const Json& v) { return v.is_structured(); });
  if (!flat) {
    return absl::StrCat(value.is_array() ? "an array of " : "an object of ", value.size(),
                        value.is_array() ? " elements" : " members");
  }
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > kMaxChars) text = absl::StrCat(text.substr(0, kMaxChars - 3), "...");
  return text;
}

absl::StatusOr<ObjectReader> ObjectReader::open(const Json& value, std::string label,
                                                std::initializer_list<std::string_view> allowed) {
  if (!value.is_object()) return expected(label.empty() ? "the document" : label, "an object", value);
  ObjectReader reader(value, std::move(label));
  for (const auto& [key, member] : value.items()) {
    const bool known = key == "comment" || std::find(allowed.begin(), allowed.end(), key) != allowed.end();
    if (!known) {
      std::vector<std::string> keys(allowed.begin(), allowed.end());
      return absl::InvalidArgumentError(
          absl::StrCat(reader.where(""), "unknown key '", key, "' (expected ", absl::StrJoin(keys, ", "), ")"));
    }
  }
  return reader;
}

std::string ObjectReader::where(std::string_view member) const {
  if (label_.empty()) return std::string(member);
  return member.empty() ? absl::StrCat(label_, ": ") : absl::StrCat(label_, ": ", std::string(member));
}

const Json* ObjectReader::find(std::string_view key) const {
  auto it = object_->find(std::string(key));
  return it == object_->end() ? nullptr : &*it;
}

absl::StatusOr<const Json*> ObjectReader::require(std::string_view key) const {
  if (const Json* member = find(key)) return member;
  return absl::InvalidArgumentError(absl::StrCat(where(""), "missing '", std::string(key), "'"));
}

absl::StatusOr<std::string> ObjectReader::string(std::string_view key) const {
  absl::StatusOr<const Json*> member = require(key);
  if (!member.ok()) return member.status();
  if (!(*member)->is_string()) return expected(where(key), "a string", **member);
  return (*member)->get<std::string>();
}

absl::StatusOr<ir::DType> ObjectReader::dtype(std::string_view key) const {
  absl::StatusOr<std::string> name = string(key);
  if (!name.ok()) return name.status();
  absl::StatusOr<ir::DType> dtype = ir::parse_dtype(*name);
  if (!dtype.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where(key), ": ", std::string(dtype.status().message())));
  }
  return dtype;
}

absl::StatusOr<ir::Shape> ObjectReader::shape(std::string_view key, const ir::SymbolValues& symbols) const {
  absl::StatusOr<const Json*> member = require(key);
  if (!member.ok()) return member.status();
  return read_shape(**member, where(key), symbols, /*min_extent=*/1);
}

absl::StatusOr<std::vector<std::string>> ObjectReader::names(std::string_view key) const {
  absl::StatusOr<const Json*> member = require(key);
  if (!member.ok()) return member.status();
  if (!(*member)->is_array()) return expected(where(key), "an array of value names", **member);
  std::vector<std::string> names;
  for (size_t i = 0; i < (*member)->size(); ++i) {
    const Json& name = (**member)[i];
    if (!name.is_string()) return expected(where(element_path(key, i)), "a value name", name);
    names.push_back(name.get<std::string>());
  }
  return names;
}

absl::StatusOr<ir::Shape> read_shape(const Json& value, const std::string& path, const ir::SymbolValues& symbols,
                                     int64_t min_extent) {
  if (!value.is_array()) return expected(path, "an array of integers and symbol names", value);
  ir::Shape shape;
  for (size_t i = 0; i < value.size(); ++i) {
    const Json& dim = value[i];
    const std::string dim_path = element_path(path, i);
    if (dim.is_string()) {
      const std::string name = dim.get<std::string>();
      if (!symbols.contains(name)) {
        return absl::InvalidArgumentError(
            absl::StrCat(dim_path, ": symbol '", name, "' is not declared in \"symbols\""));
      }
      shape.push_back(ir::Dim::symbol(name));
      continue;
    }
    absl::StatusOr<int64_t> extent = as_int64(dim, dim_path);
    if (!extent.ok() || *extent < min_extent) {
      return expected(dim_path, min_extent == 1 ? "a positive integer or a symbol name" : "an integer or a symbol name",
                      dim);
    }
    shape.push_back(ir::Dim(*extent));
  }
  return shape;
}

absl::Status check_name(std::string_view name, std::string_view path) {
  const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  });
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(std::string(path), ": name '", std::string(name),
                                                 "' must be letters, digits, '_' and '.'"));
}

absl::StatusOr<int64_t> as_int64(const Json& value, std::string_view path) {
  constexpr double kLimit = 9.2233720368547758e18;  // 2^63
  if (value.is_number_unsigned()) {
    const uint64_t u = value.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return static_cast<int64_t>(u);
  } else if (value.is_number_integer()) {
    return value.get<int64_t>();
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < kLimit) return static_cast<int64_t>(d);
  }
  return expected(path, "an integer", value);
}

}  // namespace kiln::frontend::graph_json
