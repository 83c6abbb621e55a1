#include "passes/fusion_rule.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ir/op_registry.h"

namespace kiln::passes {

// ---- Fused forms -------------------------------------------------------------

namespace {

absl::Status invalid(const std::string& why) { return absl::InvalidArgumentError(why); }

bool declares_attr(const ir::OpDef& def, std::string_view attr) {
  return std::any_of(def.attrs.begin(), def.attrs.end(), [&](const ir::AttrSpec& spec) { return spec.name == attr; });
}

std::vector<std::string> split_names(absl::string_view text) {
  std::vector<std::string> names;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    names.emplace_back(absl::StripAsciiWhitespace(part));
  }
  return names;
}

absl::StatusOr<FusedForm::AttrSource> parse_attr_source(absl::string_view text) {
  std::vector<std::string> sides = absl::StrSplit(text, '=');
  std::vector<std::string> source = absl::StrSplit(sides.size() == 2 ? sides[1] : "", '.');
  if (sides.size() != 2 || source.size() != 2) {
    return invalid(absl::StrCat("attribute '", text, "' must read `attr = node.attr` or `attr = node.op`"));
  }
  return FusedForm::AttrSource{std::string(absl::StripAsciiWhitespace(sides[0])),
                               std::string(absl::StripAsciiWhitespace(source[0])),
                               std::string(absl::StripAsciiWhitespace(source[1]))};
}

}  // namespace

absl::StatusOr<FusedForm> FusedForm::parse(std::string_view text_in) {
  const absl::string_view text(text_in.data(), text_in.size());
  const size_t equals = text.find('=');
  const size_t open = text.find('(');
  const size_t close = text.find(')');
  if (equals == absl::string_view::npos || open == absl::string_view::npos || close == absl::string_view::npos ||
      !(equals < open && open < close)) {
    return absl::InvalidArgumentError(
        absl::StrCat("fused form '", text, "' must read `results = op(operands) {attr = node.attr, ...}`"));
  }
  FusedForm form;
  form.results = split_names(text.substr(0, equals));
  form.op = std::string(absl::StripAsciiWhitespace(text.substr(equals + 1, open - equals - 1)));
  form.operands = split_names(text.substr(open + 1, close - open - 1));
  absl::string_view rest = absl::StripAsciiWhitespace(text.substr(close + 1));
  if (!rest.empty()) {
    if (!absl::ConsumePrefix(&rest, "{") || !absl::ConsumeSuffix(&rest, "}")) {
      return absl::InvalidArgumentError(absl::StrCat("fused form '", text, "': attributes go in { }"));
    }
    for (absl::string_view item : absl::StrSplit(rest, ',', absl::SkipWhitespace())) {
      absl::StatusOr<AttrSource> source = parse_attr_source(item);
      if (!source.ok()) return invalid(absl::StrCat("fused form '", text, "': ", source.status().message()));
      form.attrs.push_back(*std::move(source));
    }
  }
  return form;
}

ir::Attributes FusedForm::attributes(const Match& match) const {
  ir::Attributes values;
  for (const AttrSource& source : attrs) {
    const ir::Node& node = *match.nodes.at(source.node);
    if (source.field == "op") {
      values[source.attr] = node.op();
    } else if (declares_attr(node.def(), source.field)) {
      values[source.attr] = node.attr(source.field);
    }
  }
  return values;
}

// ---- Checking the tables -----------------------------------------------------

namespace {

absl::Status check_form(const Pattern& pattern, const FusedForm& form) {
  const ir::OpDef* def = ir::find_op(form.op);
  if (def == nullptr || !def->fused) return invalid(absl::StrCat("'", form.op, "' is not a fused op"));
  for (const std::string& operand : form.operands) {
    if (!pattern.binds_capture(operand)) return invalid(absl::StrCat("operand '", operand, "' is not a capture"));
  }
  for (const std::string& result : form.results) {
    if (!pattern.binds_node(result)) return invalid(absl::StrCat("result '", result, "' is not a named node"));
  }
  for (const std::string& root : pattern.root_names()) {
    if (std::find(form.results.begin(), form.results.end(), root) == form.results.end()) {
      return absl::InvalidArgumentError(absl::StrCat("root '", root, "' is not a result: its readers would be lost"));
    }
  }
  for (const FusedForm::AttrSource& source : form.attrs) {
    if (!declares_attr(*def, source.attr)) {
      return invalid(absl::StrCat(form.op, " has no attribute '", source.attr, "'"));
    }
    if (!pattern.binds_node(source.node)) return invalid(absl::StrCat("'", source.node, "' is not a named node"));
  }
  return absl::OkStatus();
}

absl::Status check_conditions(const Pattern& pattern, const std::vector<Condition>& when) {
  for (const Condition& condition : when) {
    for (const std::string& name : condition.names) {
      if (!pattern.binds(name)) {
        return invalid(absl::StrCat("condition '", condition.text, "' reads '", name,
                                    "', which the pattern does not bind"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CompiledRule> compile_rule(const FusionRule& row) {
  absl::StatusOr<Pattern> pattern = Pattern::parse(row.pattern);
  if (!pattern.ok()) return pattern.status();
  absl::StatusOr<FusedForm> form = FusedForm::parse(row.fused);
  if (!form.ok()) return form.status();
  if (absl::Status s = check_form(*pattern, *form); !s.ok()) return s;
  if (absl::Status s = check_conditions(*pattern, row.when); !s.ok()) return s;
  return CompiledRule{row, *std::move(pattern), *std::move(form)};
}

}  // namespace

absl::StatusOr<std::vector<CompiledTable>> compile_tables(const std::vector<FusionTable>& tables) {
  std::vector<CompiledTable> compiled;
  for (const FusionTable& table : tables) {
    CompiledTable out{table.name, {}};
    for (const FusionRule& row : table.rules) {
      absl::StatusOr<CompiledRule> rule = compile_rule(row);
      if (!rule.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("fusion table ", table.name, ", rule ", row.name, ": ", rule.status().message()));
      }
      out.rules.push_back(*std::move(rule));
    }
    compiled.push_back(std::move(out));
  }
  return compiled;
}

}  // namespace kiln::passes
