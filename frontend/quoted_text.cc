#include "frontend/quoted_text.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace kiln::frontend {

std::string quoted_text(std::string_view text, size_t limit) {
  const absl::string_view shown(text.data(), std::min(text.size(), limit));
  if (text.size() <= limit) return absl::StrCat("'", absl::CHexEscape(shown), "'");
  return absl::StrCat("'", absl::CHexEscape(shown), "'... (", text.size(), " bytes)");
}

}  // namespace kiln::frontend
