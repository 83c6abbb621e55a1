#include "tools/target_option.h"

#include <charconv>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kiln::cli {
namespace {

absl::StatusOr<int64_t> parse_number(const std::string& key, const std::string& text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(absl::StrCat("--target: ", key, " expects an integer, got '", text, "'"));
  }
  return value;
}

}  // namespace

absl::StatusOr<passes::Target> parse_target_option(std::string_view text) {
  passes::Target target;
  if (text.empty()) return target;
  for (absl::string_view item : absl::StrSplit(absl::string_view(text.data(), text.size()), ',')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    const auto& [key, value] = kv;
    if (key == "backend") {
      target.backend = value;
      continue;
    }
    absl::StatusOr<int64_t> number = parse_number(key, value);
    if (!number.ok()) return number.status();
    if (key == "has_f16") {
      target.has_f16 = *number != 0;
    } else if (key == "subgroup_size") {
      target.subgroup_size = *number;
    } else if (key == "shared_memory_bytes") {
      target.shared_memory_bytes = *number;
    } else if (key == "max_buffer_bytes") {
      target.max_buffer_bytes = *number;
    } else if (key == "cooperative_matrix") {
      target.has_cooperative_matrix = *number != 0;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--target: unknown key '", key,
                                                     "'; known: backend, has_f16, subgroup_size, "
                                                     "shared_memory_bytes, max_buffer_bytes, cooperative_matrix"));
    }
  }
  return target;
}

}  // namespace kiln::cli
