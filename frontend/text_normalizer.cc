#include "frontend/text_normalizer.h"

#include <cstdlib>
#include <memory>

#include "absl/strings/str_replace.h"
#include "utf8proc.h"

namespace kiln::frontend {
namespace {

bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

utf8proc_option_t utf8proc_options(NormalForm form) {
  switch (form) {
    case NormalForm::kNfc:
      return static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    case NormalForm::kNfd:
      return static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
    case NormalForm::kNfkc:
      return static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
    case NormalForm::kNfkd:
      return static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE |
                                            UTF8PROC_COMPAT);
  }
  return UTF8PROC_STABLE;
}

// ASCII text is in every normal form, which spares the common case a copy.
// utf8proc fails only on invalid UTF-8, which the caller rules out, or when
// out of memory, where the text is left as it is.
void normalize_unicode(NormalForm form, std::string& text) {
  if (is_ascii(text)) return;
  utf8proc_uint8_t* result = nullptr;
  const utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &result, utf8proc_options(form));
  const std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(result, &std::free);
  if (length < 0) return;
  text.assign(reinterpret_cast<const char*>(result), static_cast<size_t>(length));
}

}  // namespace

std::string normalize_text(std::span<const NormalizerStep> steps, std::string_view text) {
  std::string out(text);
  for (const NormalizerStep& step : steps) {
    if (const auto* unicode = std::get_if<UnicodeNormalization>(&step)) {
      normalize_unicode(unicode->form, out);
    } else if (const auto* prepend = std::get_if<Prepend>(&step)) {
      if (!out.empty()) out.insert(0, prepend->prefix);
    } else if (const auto* replace = std::get_if<Replace>(&step)) {
      out = absl::StrReplaceAll(out, {{replace->from, replace->to}});
    }
  }
  return out;
}

}  // namespace kiln::frontend
