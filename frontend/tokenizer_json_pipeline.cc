#include "frontend/tokenizer_json_pipeline.h"

#include <cctype>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kiln::frontend {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kMetaspace = "\u2581";

// A String pattern as a regex: PCRE2 reads a backslash before an ASCII
// character that is not a letter or digit as that character itself.
std::string quote_regex(std::string_view text) {
  std::string quoted;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80 && !std::isalnum(byte)) quoted += '\\';
    quoted += c;
  }
  return quoted;
}

std::optional<NormalForm> normal_form(std::string_view type) {
  if (type == "NFC") return NormalForm::kNfc;
  if (type == "NFD") return NormalForm::kNfd;
  if (type == "NFKC") return NormalForm::kNfkc;
  if (type == "NFKD") return NormalForm::kNfkd;
  return std::nullopt;
}

absl::Status read_replace_normalizer(const TokenizerJsonFields& fields, const Json& node,
                                     const std::string& where, TokenizerSpec& spec) {
  bool is_regex = false;
  absl::StatusOr<std::string> from = fields.pattern(node, where, is_regex);
  if (!from.ok()) return from.status();
  absl::StatusOr<std::string> to = fields.string(node, "content", where);
  if (!to.ok()) return to.status();
  if (is_regex || from->empty()) {
    return fields.unsupported(where, "a Replace with a regex or an empty pattern");
  }
  spec.normalizer.push_back(Replace{*std::move(from), *std::move(to)});
  return absl::OkStatus();
}

absl::Status read_split(const TokenizerJsonFields& fields, const Json& node,
                        const std::string& where, TokenizerSpec& spec) {
  bool is_regex = false;
  bool invert = false;
  absl::StatusOr<std::string> pattern = fields.pattern(node, where, is_regex);
  if (!pattern.ok()) return pattern.status();
  absl::StatusOr<std::string> behavior = fields.string(node, "behavior", where);
  if (!behavior.ok()) return behavior.status();
  if (absl::Status status = fields.flags(node, {{"invert", &invert}}, where); !status.ok()) {
    return status;
  }
  if (*behavior != "Isolated" || invert) {
    return fields.unsupported(where, absl::StrCat("Split with behavior '", *behavior, "'",
                                                  invert ? " inverted" : ""));
  }
  spec.pre_tokenizer.push_back(RegexSplit{is_regex ? *pattern : quote_regex(*pattern)});
  return absl::OkStatus();
}

// HF applies add_prefix_space, then (use_regex) GPT-2's pattern; the byte
// mapping itself is BPE's alphabet here.
absl::Status read_byte_level(const TokenizerJsonFields& fields, const Json& node,
                             const std::string& where, TokenizerSpec& spec) {
  bool add_prefix_space = false;
  absl::StatusOr<bool> use_regex = fields.boolean(node, "use_regex", true, where);
  if (!use_regex.ok()) return use_regex.status();
  const absl::Status status = fields.flags(node, {{"add_prefix_space", &add_prefix_space}}, where);
  if (!status.ok()) return status;
  spec.alphabet = BpeAlphabet::kBytes;
  // In place: moving the variant trips a false -Wmaybe-uninitialized in GCC 12.
  if (add_prefix_space) spec.pre_tokenizer.emplace_back(std::in_place_type<PrefixSpace>);
  if (*use_regex) spec.pre_tokenizer.push_back(RegexSplit{std::string(kGpt2Pattern)});
  return absl::OkStatus();
}

// tokenizers before 0.15 wrote add_prefix_space (true: "always") where newer
// ones write prepend_scheme.
absl::StatusOr<PrependScheme> read_prepend_scheme(const TokenizerJsonFields& fields,
                                                  const Json& node, const std::string& where) {
  if (TokenizerJsonFields::optional(node, "prepend_scheme") == nullptr) {
    absl::StatusOr<bool> prefix = fields.boolean(node, "add_prefix_space", true, where);
    if (!prefix.ok()) return prefix.status();
    return *prefix ? PrependScheme::kAlways : PrependScheme::kNever;
  }
  absl::StatusOr<std::string> scheme = fields.string(node, "prepend_scheme", where);
  if (!scheme.ok()) return scheme.status();
  if (*scheme == "always") return PrependScheme::kAlways;
  if (*scheme == "first") return PrependScheme::kFirst;
  if (*scheme == "never") return PrependScheme::kNever;
  return fields.unsupported(where, absl::StrCat("prepend_scheme '", *scheme, "'"));
}

absl::Status read_metaspace(const TokenizerJsonFields& fields, const Json& node,
                            const std::string& where, TokenizerSpec& spec) {
  absl::StatusOr<std::string> replacement = fields.string(node, "replacement", where);
  if (!replacement.ok()) return replacement.status();
  if (*replacement != kMetaspace) {
    return fields.unsupported(where, "a replacement other than \"\u2581\"");
  }
  absl::StatusOr<bool> split = fields.boolean(node, "split", true, where);
  if (!split.ok()) return split.status();
  absl::StatusOr<PrependScheme> scheme = read_prepend_scheme(fields, node, where);
  if (!scheme.ok()) return scheme.status();
  spec.pre_tokenizer.push_back(Metaspace{*replacement, *scheme, *split});
  return absl::OkStatus();
}

// Digits: each digit alone, or runs of digits (Rust's char::is_numeric is
// \p{N}).
absl::Status read_digits(const TokenizerJsonFields& fields, const Json& node,
                         const std::string& where, TokenizerSpec& spec) {
  bool individual = false;
  const absl::Status status = fields.flags(node, {{"individual_digits", &individual}}, where);
  if (!status.ok()) return status;
  spec.pre_tokenizer.push_back(RegexSplit{individual ? R"(\p{N})" : R"(\p{N}+)"});
  return absl::OkStatus();
}

// Replace("▁", " ") and Strip(" ", 1, 0) are the only forms decoding uses.
absl::Status read_replace_or_strip_decoder(const TokenizerJsonFields& fields, const Json& node,
                                           const std::string& where, const std::string& type,
                                           TokenizerSpec& spec) {
  if (type == "Replace") {
    bool is_regex = false;
    absl::StatusOr<std::string> from = fields.pattern(node, where, is_regex);
    if (!from.ok()) return from.status();
    absl::StatusOr<std::string> to = fields.string(node, "content", where);
    if (!to.ok()) return to.status();
    if (is_regex || *from != kMetaspace || *to != " ") {
      return fields.unsupported(where, "a Replace other than \"\u2581\" -> \" \"");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> content = fields.string(node, "content", where);
  if (!content.ok()) return content.status();
  const Json* start = TokenizerJsonFields::optional(node, "start");
  const Json* stop = TokenizerJsonFields::optional(node, "stop");
  if (*content != " " || start == nullptr || *start != 1 || (stop != nullptr && *stop != 0)) {
    return fields.unsupported(where, "a Strip other than of one leading space");
  }
  spec.strip_leading_space = true;
  return absl::OkStatus();
}

// The single-sequence template: a special token before "$A" is BOS, one
// after it EOS ("<|begin_of_text|> $A"); kiln adds at most one of each.
absl::Status read_template(const TokenizerJsonFields& fields, const Json& node,
                           const std::string& where, TokenizerSpec& spec) {
  bool seen_sequence = false;
  return fields.for_each(node, "single", where, [&](const Json& item, const std::string& at) -> absl::Status {
    if (TokenizerJsonFields::optional(item, "Sequence") != nullptr) {
      seen_sequence = true;
      return absl::OkStatus();
    }
    const Json* special = TokenizerJsonFields::optional(item, "SpecialToken");
    absl::StatusOr<std::string> name = fields.string(special ? *special : item, "id", at);
    if (!name.ok()) return name.status();
    const Json* tokens = TokenizerJsonFields::optional(node, "special_tokens");
    const Json* entry = tokens ? TokenizerJsonFields::optional(*tokens, *name) : nullptr;
    const Json* ids = entry ? TokenizerJsonFields::optional(*entry, "ids") : nullptr;
    if (ids == nullptr || !ids->is_array() || ids->size() != 1 || !(*ids)[0].is_number_integer()) {
      return fields.error(at, absl::StrCat("special token '", *name, "' has no single id"));
    }
    bool& add = seen_sequence ? spec.add_eos : spec.add_bos;
    if (add) return fields.unsupported(at, "a template adding two tokens on one side");
    add = true;
    (seen_sequence ? spec.eos_id : spec.bos_id) = (*ids)[0].get<int32_t>();
    return absl::OkStatus();
  });
}

}  // namespace

absl::Status read_normalizer(const TokenizerJsonFields& fields, const Json& node,
                             const std::string& where, TokenizerSpec& spec) {
  absl::StatusOr<std::string> type = fields.type(node, where);
  if (!type.ok()) return type.status();
  if (const std::optional<NormalForm> form = normal_form(*type)) {
    // In place: moving the variant trips a false -Wmaybe-uninitialized in GCC 12.
    spec.normalizer.emplace_back(std::in_place_type<UnicodeNormalization>, UnicodeNormalization{*form});
    return absl::OkStatus();
  }
  if (*type == "Sequence") {
    return fields.for_each(node, "normalizers", where, [&](const Json& step, const std::string& at) -> absl::Status {
      return read_normalizer(fields, step, at, spec);
    });
  }
  if (*type == "Prepend") {
    absl::StatusOr<std::string> prefix = fields.string(node, "prepend", where);
    if (!prefix.ok()) return prefix.status();
    spec.normalizer.push_back(Prepend{*std::move(prefix)});
    return absl::OkStatus();
  }
  if (*type == "Replace") return read_replace_normalizer(fields, node, where, spec);
  return fields.unsupported(where, absl::StrCat("normalizer ", *type));
}

absl::Status read_pre_tokenizer(const TokenizerJsonFields& fields, const Json& node,
                                const std::string& where, TokenizerSpec& spec) {
  absl::StatusOr<std::string> type = fields.type(node, where);
  if (!type.ok()) return type.status();
  if (*type == "Sequence") {
    return fields.for_each(node, "pretokenizers", where,
                           [&](const Json& step, const std::string& at) -> absl::Status {
                             return read_pre_tokenizer(fields, step, at, spec);
                           });
  }
  if (*type == "Split") return read_split(fields, node, where, spec);
  if (*type == "ByteLevel") return read_byte_level(fields, node, where, spec);
  if (*type == "Metaspace") return read_metaspace(fields, node, where, spec);
  if (*type == "Digits") return read_digits(fields, node, where, spec);
  return fields.unsupported(where, absl::StrCat("pre-tokenizer ", *type));
}

absl::Status read_decoder(const TokenizerJsonFields& fields, const Json& node,
                          const std::string& where, TokenizerSpec& spec, bool& out_byte_level) {
  absl::StatusOr<std::string> type = fields.type(node, where);
  if (!type.ok()) return type.status();
  if (*type == "Sequence") {
    return fields.for_each(node, "decoders", where, [&](const Json& step, const std::string& at) -> absl::Status {
      return read_decoder(fields, step, at, spec, out_byte_level);
    });
  }
  if (*type == "ByteLevel") {
    out_byte_level = true;
    return absl::OkStatus();
  }
  if (*type == "ByteFallback" || *type == "Fuse") return absl::OkStatus();
  if (*type == "Replace" || *type == "Strip") {
    return read_replace_or_strip_decoder(fields, node, where, *type, spec);
  }
  if (*type == "Metaspace") {
    absl::StatusOr<PrependScheme> scheme = read_prepend_scheme(fields, node, where);
    if (!scheme.ok()) return scheme.status();
    spec.strip_leading_space = *scheme != PrependScheme::kNever;
    return absl::OkStatus();
  }
  return fields.unsupported(where, absl::StrCat("decoder ", *type));
}

absl::Status read_post_processor(const TokenizerJsonFields& fields, const Json& node,
                                 const std::string& where, TokenizerSpec& spec) {
  absl::StatusOr<std::string> type = fields.type(node, where);
  if (!type.ok()) return type.status();
  if (*type == "Sequence") {
    return fields.for_each(node, "processors", where, [&](const Json& step, const std::string& at) -> absl::Status {
      return read_post_processor(fields, step, at, spec);
    });
  }
  if (*type == "ByteLevel") return absl::OkStatus();
  if (*type == "TemplateProcessing") return read_template(fields, node, where, spec);
  return fields.unsupported(where, absl::StrCat("post-processor ", *type));
}

}  // namespace kiln::frontend
