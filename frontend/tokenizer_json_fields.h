#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace kiln::frontend {

// Typed access to the fields of a tokenizer.json, for its readers. `where`
// is the JSON path of the object read ("pre_tokenizer.pretokenizers[0]"),
// and every error names the file and that path:
// "tokenizer.json: model.vocab: expected an object".
class TokenizerJsonFields {
 public:
  using Json = nlohmann::json;

  explicit TokenizerJsonFields(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  absl::Status error(const std::string& where, std::string_view what) const;
  absl::Status unsupported(const std::string& where, std::string_view what) const;

  // nullptr when `object` is not an object or the field is absent or null.
  static const Json* optional(const Json& object, std::string_view key);
  absl::StatusOr<std::string> string(const Json& object, std::string_view key,
                                     const std::string& where) const;
  absl::StatusOr<bool> boolean(const Json& object, std::string_view key, bool fallback,
                               const std::string& where) const;
  // Boolean fields into `flags`, false where absent.
  absl::Status flags(const Json& object,
                     std::initializer_list<std::pair<std::string_view, bool*>> flags,
                     const std::string& where) const;
  // The "type" of a component object ("Sequence", "NFC", "ByteLevel").
  absl::StatusOr<std::string> type(const Json& object, const std::string& where) const;
  // A "pattern": {"String": "▁"} or {"Regex": "\\s+"}.
  absl::StatusOr<std::string> pattern(const Json& object, const std::string& where,
                                      bool& out_is_regex) const;
  // Calls `read` on each element of the array field `key`, with its path.
  absl::Status for_each(const Json& object, std::string_view key, const std::string& where,
                        const std::function<absl::Status(const Json&, const std::string&)>& read)
      const;

 private:
  std::string path_;
};

}  // namespace kiln::frontend
