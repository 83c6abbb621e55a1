#include "passes/pass_test.h"

#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ir/text.h"
#include "passes/pass_manager.h"

namespace kiln::passes {
namespace {

struct SetType {
  std::string value;  // without '%'
  std::string type;   // as written: f32[8, 4]
  int line = 0;
};

struct PassCase {
  std::optional<std::string> pipeline;
  std::vector<std::string> expects;
  std::vector<std::string> expect_nots;
  std::vector<std::string> expect_errors;
  std::vector<std::string> explains;
  std::vector<SetType> set_types;
  std::optional<std::string> target;
};

// The text after `# DIRECTIVE:` on `line`, if the line is that directive.
std::optional<absl::string_view> directive(absl::string_view line, absl::string_view name) {
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(line);
  if (!absl::ConsumePrefix(&rest, "#")) return std::nullopt;
  rest = absl::StripLeadingAsciiWhitespace(rest);
  if (!absl::ConsumePrefix(&rest, name) || !absl::ConsumePrefix(&rest, ":")) return std::nullopt;
  return absl::StripAsciiWhitespace(rest);
}

// "# expect-nto: x": a typo would otherwise turn an expectation into a
// comment and the case would pass without checking it.
bool is_misspelt_expectation(absl::string_view line) {
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(line);
  if (!absl::ConsumePrefix(&rest, "#")) return false;
  rest = absl::StripLeadingAsciiWhitespace(rest);
  const size_t colon = rest.find(':');
  return absl::StartsWithIgnoreCase(rest, "expect") && colon != absl::string_view::npos &&
         rest.substr(0, colon).find(' ') == absl::string_view::npos;
}

absl::Status parse_set_type(absl::string_view text, int line, PassCase& out) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, absl::MaxSplits(':', 1));
  absl::string_view name = parts.size() == 2 ? absl::StripAsciiWhitespace(parts[0]) : "";
  if (!absl::ConsumePrefix(&name, "%") || name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("line ", line, ": expected '# set-type: %name : TYPE'"));
  }
  out.set_types.push_back({std::string(name), std::string(absl::StripAsciiWhitespace(parts[1])), line});
  return absl::OkStatus();
}

absl::StatusOr<PassCase> parse_directives(absl::string_view text) {
  PassCase out;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (auto run = directive(line, "run")) {
      if (out.pipeline) return absl::InvalidArgumentError(absl::StrCat("line ", number, ": a second '# run:' line"));
      out.pipeline = std::string(*run);
    } else if (auto expect = directive(line, "expect")) {
      out.expects.emplace_back(*expect);
    } else if (auto expect_not = directive(line, "expect-not")) {
      out.expect_nots.emplace_back(*expect_not);
    } else if (auto expect_error = directive(line, "expect-error")) {
      out.expect_errors.emplace_back(*expect_error);
    } else if (auto set_type = directive(line, "set-type")) {
      if (absl::Status s = parse_set_type(*set_type, number, out); !s.ok()) return s;
    } else if (auto explain = directive(line, "explain")) {
      out.explains.emplace_back(*explain);
    } else if (auto target = directive(line, "target")) {
      out.target = std::string(*target);
    } else if (is_misspelt_expectation(line)) {
      return absl::InvalidArgumentError(absl::StrCat("line ", number, ": unknown directive '", line,
                                                     "'; expected expect, expect-not or expect-error"));
    }
  }
  if (!out.pipeline) return absl::InvalidArgumentError("the case has no '# run: PIPELINE' line");
  return out;
}

// Parses `type` ("f32[T, 4]") with the graph's own text parser.
absl::StatusOr<ir::TensorType> parse_type(const ir::Graph& graph, const std::string& type) {
  std::string text;
  for (const auto& [name, bound] : graph.symbol_bounds()) absl::StrAppend(&text, "symbol ", name, " <= ", bound, "\n");
  absl::StrAppend(&text, "input %_ : ", type, "\n");
  absl::StatusOr<ir::Graph> parsed = ir::parse_graph(text, "set-type");
  if (!parsed.ok()) return parsed.status();
  return parsed->find_value("_")->type();
}

absl::Status apply_set_types(const PassCase& c, ir::Graph& graph) {
  for (const SetType& set : c.set_types) {
    ir::Value* value = graph.find_value(set.value);
    if (value == nullptr || value->kind() == ir::ValueKind::result) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", set.line, ": set-type: %", set.value, " is not an input, weight or state"));
    }
    absl::StatusOr<ir::TensorType> type = parse_type(graph, set.type);
    if (!type.ok()) return absl::InvalidArgumentError(absl::StrCat("line ", set.line, ": ", type.status().message()));
    value->set_type(*type);
  }
  return absl::OkStatus();
}

// "backend=vulkan shared_memory_bytes=32768 ..." over `target`'s fields.
absl::Status apply_target(absl::string_view text, Target& target) {
  for (absl::string_view item : absl::StrSplit(text, ' ', absl::SkipWhitespace())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    int64_t number = 0;
    const bool numeric = absl::SimpleAtoi(kv.second, &number);
    if (kv.first == "backend") {
      target.backend = kv.second;
    } else if (kv.first == "has_f16" && numeric) {
      target.has_f16 = number != 0;
    } else if (kv.first == "subgroup_size" && numeric) {
      target.subgroup_size = number;
    } else if (kv.first == "shared_memory_bytes" && numeric) {
      target.shared_memory_bytes = number;
    } else if (kv.first == "max_buffer_bytes" && numeric) {
      target.max_buffer_bytes = number;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "# target: '", item, "' is not KEY=VALUE with KEY in backend, has_f16, subgroup_size, "
          "shared_memory_bytes, max_buffer_bytes (numbers for all but backend)"));
    }
  }
  return absl::OkStatus();
}

absl::Status failure(std::string_view what, const std::string& output) {
  return absl::FailedPreconditionError(absl::StrCat(std::string(what), "\n--- output graph ---\n", output));
}

// FileCheck-style: each of `wants` is searched in `text` from where the
// previous one matched, within one line. `what` names the directive.
absl::Status check_in_order(const std::vector<std::string>& wants, const std::string& text, std::string_view what,
                            const std::string& output) {
  const std::vector<std::string> lines = absl::StrSplit(text, '\n');
  size_t line = 0, column = 0;
  for (size_t i = 0; i < wants.size(); ++i) {
    const std::string& want = wants[i];
    bool found = false;
    for (; line < lines.size(); ++line, column = 0) {
      const size_t at = lines[line].find(want, column);
      if (at == std::string::npos) continue;
      column = at + want.size();
      found = true;
      break;
    }
    if (!found) {
      return failure(absl::StrCat(std::string(what), " #", i + 1, " not found",
                                  i > 0 ? " after the previous match" : "", ": ", want),
                     output);
    }
  }
  return absl::OkStatus();
}

absl::Status check_expectations(const PassCase& c, const std::string& output, const std::string& explanation) {
  if (absl::Status s = check_in_order(c.expects, output, "expect", output); !s.ok()) return s;
  const std::string with_explanation = absl::StrCat(output, "--- explanation ---\n", explanation);
  if (absl::Status s = check_in_order(c.explains, explanation, "explain", with_explanation); !s.ok()) return s;
  for (const std::string& unwanted : c.expect_nots) {
    if (absl::StrContains(output, unwanted)) return failure(absl::StrCat("expect-not found: ", unwanted), output);
  }
  return absl::OkStatus();
}

absl::Status check_error(const PassCase& c, const absl::Status& status, const std::string& output) {
  if (status.ok()) {
    return failure(absl::StrCat("expected the pipeline to fail with: ", c.expect_errors.front()), output);
  }
  for (const std::string& want : c.expect_errors) {
    if (!absl::StrContains(status.message(), want)) {
      return failure(
          absl::StrCat("the pipeline failed with\n  ", status.message(), "\nwhich does not contain\n  ", want), output);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status run_pass_case(std::string_view case_text, const Target& target) {
  const absl::string_view text(case_text.data(), case_text.size());
  absl::StatusOr<PassCase> c = parse_directives(text);
  if (!c.ok()) return c.status();
  absl::StatusOr<ir::Graph> graph = ir::parse_graph(case_text, "case");
  if (!graph.ok()) return absl::InvalidArgumentError(absl::StrCat("input graph: ", graph.status().message()));
  if (absl::Status s = apply_set_types(*c, *graph); !s.ok()) return s;

  Target case_target = target;
  if (c->target) {
    if (absl::Status s = apply_target(*c->target, case_target); !s.ok()) return s;
  }
  std::ostringstream log, explanation;
  PassManagerOptions options;
  options.log = &log;
  absl::Status status;
  absl::StatusOr<PassManager> manager = PassManager::from_pipeline(*c->pipeline, options);
  if (manager.ok()) {
    PassContext context;
    context.target = case_target;
    context.explain = &explanation;
    status = manager->run(*graph, context);
  } else {
    status = manager.status();
  }
  const std::string output = ir::print_graph(*graph);
  if (!c->expect_errors.empty()) return check_error(*c, status, output);
  if (!status.ok()) return failure(absl::StrCat("the pipeline failed: ", status.message()), output);
  return check_expectations(*c, output, explanation.str());
}

}  // namespace kiln::passes
