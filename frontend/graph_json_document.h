#pragma once

// Internal to the JSON graph reader (graph_json.cc): the JSON document and
// typed access to its members. Messages returned here name the member
// ("nodes[2].inputs[1]: expected a string") and leave the file name to the
// caller.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/shape.h"
#include "nlohmann/json.hpp"

namespace kiln::frontend::graph_json {

// Keys keep their document order, so weights and symbols are declared in the
// order they are written.
using Json = nlohmann::ordered_json;

// Parses `text`, the contents of `source_name`. A syntax error reads
// "SOURCE:LINE:COLUMN: malformed JSON: <what>"; a key repeated within one
// object (which JSON parsers otherwise resolve silently to the last one)
// reads "SOURCE: weights: duplicate key 'w1'".
absl::StatusOr<Json> parse_document(std::string_view text, const std::string& source_name);

// "nodes[2].attrs" from "nodes[2]" and "attrs".
std::string member_path(std::string_view object_path, std::string_view key);
std::string element_path(std::string_view array_path, size_t index);

// A JSON value as messages print it, shortened to a few dozen characters.
std::string brief(const Json& value);

// One object of the format, read member by member. Its `label` starts the
// messages about it ("input 'x'", "nodes[2]"), followed by the member's path
// within it: "input 'x': shape[1]: symbol 'N' is not declared". Unknown keys
// are errors, so that a typo ("attr") fails loudly instead of being ignored;
// "comment" is allowed everywhere.
class ObjectReader {
 public:
  // Fails unless `value` is an object whose keys are all in `allowed`.
  static absl::StatusOr<ObjectReader> open(const Json& value, std::string label,
                                           std::initializer_list<std::string_view> allowed);

  const std::string& label() const { return label_; }
  // The same object under another label (once its name is known).
  ObjectReader relabeled(std::string label) const { return ObjectReader(*object_, std::move(label)); }
  // "LABEL: PATH", the prefix of a message about a member.
  std::string where(std::string_view member) const;

  bool has(std::string_view key) const { return find(key) != nullptr; }
  // The member, or null when absent.
  const Json* find(std::string_view key) const;
  // The member; absent is an error "LABEL: missing 'KEY'".
  absl::StatusOr<const Json*> require(std::string_view key) const;

  absl::StatusOr<std::string> string(std::string_view key) const;
  absl::StatusOr<ir::DType> dtype(std::string_view key) const;
  // Static dims (integers >= 1) and symbol names from `symbols`.
  absl::StatusOr<ir::Shape> shape(std::string_view key, const ir::SymbolValues& symbols) const;
  // An array of value names (the names need not exist).
  absl::StatusOr<std::vector<std::string>> names(std::string_view key) const;

 private:
  ObjectReader(const Json& object, std::string label) : object_(&object), label_(std::move(label)) {}
  const Json* object_;
  std::string label_;
};

// A shape at `path`: an array of integers >= `min_extent` and names of
// declared symbols. Tensor shapes take min_extent 1; reshape's shape
// attribute takes any integer (the op gives 0 and -1 their meaning).
absl::StatusOr<ir::Shape> read_shape(const Json& value, const std::string& path, const ir::SymbolValues& symbols,
                                     int64_t min_extent);

// Value and symbol names are those the text form can print and re-read:
// letters, digits, '_' and '.'.
absl::Status check_name(std::string_view name, std::string_view path);

// A JSON integer (or an integral float such as 2.0) that fits in int64.
absl::StatusOr<int64_t> as_int64(const Json& value, std::string_view path);

}  // namespace kiln::frontend::graph_json
