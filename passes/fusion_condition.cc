#include "passes/fusion_condition.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::passes {
namespace {

const ir::Value& value_of(const ConditionContext& context, const std::string& name) {
  return *context.match.values.at(name);
}

// A pattern name with the value it bound: "h (%o)".
std::string named(const std::string& name, const ir::Value& value) {
  return absl::StrCat(name, " (%", value.name(), ")");
}

// A dim as the user wrote it, with its bound when symbolic: "T (bound 128)".
std::string describe_dims(const ir::Graph& graph, const std::vector<ir::Dim>& dims) {
  std::vector<std::string> parts;
  int64_t bound = 1;
  bool symbolic = false;
  for (const ir::Dim& dim : dims) {
    parts.push_back(dim.to_string());
    symbolic |= !dim.is_static();
    bound *= ir::eval_dim(dim, graph.symbol_bounds()).value_or(0);
  }
  if (parts.empty()) return "1";
  const std::string text = absl::StrJoin(parts, " x ");
  return symbolic ? absl::StrCat(text, " (bound ", bound, ")") : text;
}

// Leading dims flattened, at the symbols' bounds.
int64_t rows_at_bound(const ir::Graph& graph, const ir::Value& value) {
  int64_t rows = 1;
  const ir::Shape& shape = value.type().shape;
  for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= ir::eval_dim(shape[i], graph.symbol_bounds()).value_or(0);
  return rows;
}

std::string leading_dims(const ir::Graph& graph, const ir::Value& value) {
  const ir::Shape& shape = value.type().shape;
  return describe_dims(graph, std::vector<ir::Dim>(shape.begin(), shape.empty() ? shape.end() : shape.end() - 1));
}

int64_t cols_at_bound(const ir::Graph& graph, const ir::Value& value) {
  const ir::Shape& shape = value.type().shape;
  return shape.empty() ? 1 : ir::eval_dim(shape.back(), graph.symbol_bounds()).value_or(0);
}

std::string check_decode(const Condition& self, const ConditionContext& context) {
  const ir::Value& value = value_of(context, self.names[0]);
  if (rows_at_bound(context.graph, value) == 1) return "";
  return absl::StrCat("rows of ", named(self.names[0], value), " are ", leading_dims(context.graph, value));
}

std::string check_cols_at_most(const Condition& self, const ConditionContext& context) {
  const ir::Value& value = value_of(context, self.names[0]);
  if (cols_at_bound(context.graph, value) <= self.limit) return "";
  return absl::StrCat("cols of ", named(self.names[0], value), " are ",
                      describe_dims(context.graph, {value.type().shape.back()}));
}

std::string check_cols_at_least(const Condition& self, const ConditionContext& context) {
  const ir::Value& value = value_of(context, self.names[0]);
  if (cols_at_bound(context.graph, value) >= self.limit) return "";
  return absl::StrCat("cols of ", named(self.names[0], value), " are ",
                      describe_dims(context.graph, {value.type().shape.back()}));
}

// The condition's dim index rides in `word` ("0"), its limit in `limit`.
std::string check_dim_at_most(const Condition& self, const ConditionContext& context) {
  const ir::Value& value = value_of(context, self.names[0]);
  const ir::Shape& shape = value.type().shape;
  const size_t dim = static_cast<size_t>(std::stoll(self.word));
  if (dim >= shape.size()) return absl::StrCat(named(self.names[0], value), " has rank ", shape.size());
  if (ir::eval_dim(shape[dim], context.graph.symbol_bounds()).value_or(self.limit + 1) <= self.limit) return "";
  return absl::StrCat("dim", dim, " of ", named(self.names[0], value), " is ", describe_dims(context.graph, {shape[dim]}));
}

// Checks that `property` gives one answer for every named value.
template <typename Property>
std::string check_all_equal(const Condition& self, const ConditionContext& context, const char* what,
                            Property property) {
  const ir::Value& first = value_of(context, self.names[0]);
  for (const std::string& name : self.names) {
    const ir::Value& other = value_of(context, name);
    if (property(other) != property(first)) {
      return absl::StrCat(named(name, other), " has ", what, " ", property(other), " and ",
                          named(self.names[0], first), " has ", property(first));
    }
  }
  return "";
}

std::string dtype_text(const ir::Value& value) { return std::string(ir::dtype_name(value.type().dtype)); }
std::string shape_text(const ir::Value& value) { return ir::shape_to_string(value.type().shape); }

std::string check_same_dtype(const Condition& self, const ConditionContext& context) {
  return check_all_equal(self, context, "dtype", dtype_text);
}

std::string check_same_shape(const Condition& self, const ConditionContext& context) {
  return check_all_equal(self, context, "shape", shape_text);
}

std::string check_matrices(const Condition& self, const ConditionContext& context) {
  for (const std::string& name : self.names) {
    const ir::Value& value = value_of(context, name);
    if (value.type().rank() != 2) return absl::StrCat(named(name, value), " is ", value.type().to_string());
  }
  return "";
}

std::string check_dtype_is(const Condition& self, const ConditionContext& context) {
  const ir::Value& value = value_of(context, self.names[0]);
  if (dtype_text(value) == self.word) return "";
  return absl::StrCat(named(self.names[0], value), " is ", dtype_text(value));
}

std::string check_same_attr(const Condition& self, const ConditionContext& context) {
  const ir::Node& first = *context.match.nodes.at(self.names[0]);
  for (const std::string& name : self.names) {
    const ir::Node& other = *context.match.nodes.at(name);
    if (!(other.attr(self.word) == first.attr(self.word))) {
      return absl::StrCat(other.label(), " has ", self.word, " = ", ir::attr_to_string(other.attr(self.word)), " and ",
                          first.label(), " has ", ir::attr_to_string(first.attr(self.word)));
    }
  }
  return "";
}

std::string check_fits_workgroup_memory(const Condition& self, const ConditionContext& context) {
  const int64_t available = context.target.shared_memory_bytes;
  const ir::Value& value = value_of(context, self.names[0]);
  const int64_t cols = cols_at_bound(context.graph, value);
  const int64_t needed = cols * self.limit;
  if (available == 0 || needed <= available) return "";
  return absl::StrCat("a row of ", named(self.names[0], value), " needs ", cols, " x ", self.limit,
                      " = ", needed, " bytes and target.shared_memory_bytes is ", available);
}

std::string check_backend_is(const Condition& self, const ConditionContext& context) {
  if (context.target.backend == self.word) return "";
  return absl::StrCat("the target is ", context.target.backend);
}

std::string check_has_f16(const Condition&, const ConditionContext& context) {
  return context.target.has_f16 ? "" : absl::StrCat("target ", context.target.backend, " has no f16 arithmetic");
}

std::string check_has_cooperative_matrix(const Condition&, const ConditionContext& context) {
  return context.target.has_cooperative_matrix
             ? ""
             : absl::StrCat("target ", context.target.backend, " has no cooperative-matrix multiply");
}

std::string check_has_subgroups(const Condition&, const ConditionContext& context) {
  return context.target.subgroup_size > 0 ? ""
                                          : absl::StrCat("target ", context.target.backend, " has no subgroups");
}

std::string check_has_workgroups(const Condition&, const ConditionContext& context) {
  return context.target.shared_memory_bytes > 0
             ? ""
             : absl::StrCat("target ", context.target.backend, " runs no workgroups (shared_memory_bytes 0)");
}

std::string function_of(const char* function, const std::vector<std::string>& names, const char* relation) {
  std::vector<std::string> terms;
  for (const std::string& name : names) terms.push_back(absl::StrCat(function, "(", name, ")"));
  return absl::StrJoin(terms, relation);
}

}  // namespace

std::string refusal(const Condition& condition, const ConditionContext& context) {
  const std::string found = condition.check(condition, context);
  if (found.empty()) return "";
  std::string text = absl::StrCat("needs ", condition.text, ", but ", found);
  if (!condition.hint.empty()) absl::StrAppend(&text, " — ", condition.hint);
  return text;
}

RuleVerdict evaluate_rule(const Pattern& pattern, const std::vector<Condition>& when, const ir::Graph& graph,
                          ir::Node& site, const Target& target, const MatchCheck& accept) {
  RuleVerdict verdict;
  std::vector<Match> matches = match_pattern(pattern, graph, site, &verdict.refusal);
  verdict.pattern_matched = !matches.empty();
  for (Match& match : matches) {
    const ConditionContext context{graph, match, target};
    std::vector<std::string> failed;
    for (const Condition& condition : when) {
      if (std::string why = refusal(condition, context); !why.empty()) failed.push_back(std::move(why));
    }
    if (failed.empty() && accept) {
      if (std::string why = accept(match); !why.empty()) failed.push_back(std::move(why));
    }
    if (failed.empty()) {
      verdict.match = std::move(match);
      verdict.refusal.clear();
      return verdict;
    }
    if (verdict.refusal.empty()) verdict.refusal = absl::StrJoin(failed, "; ");
  }
  return verdict;
}

Condition decode(std::string value) {
  return {.check = check_decode, .text = absl::StrCat("rows(", value, ") == 1"), .names = {value},
          .hint = "this rule is for decode (one token per step)"};
}

Condition cols_at_most(std::string value, int64_t limit) {
  return {.check = check_cols_at_most, .text = absl::StrCat("cols(", value, ") <= ", limit), .names = {value},
          .limit = limit, .hint = "a row must fit the fused kernel's one pass over it"};
}

Condition cols_at_least(std::string value, int64_t limit) {
  return {.check = check_cols_at_least, .text = absl::StrCat("cols(", value, ") >= ", limit), .names = {value},
          .limit = limit, .hint = "a shorter row is not worth splitting across workgroups"};
}

Condition dim_at_most(std::string value, int64_t dim, int64_t limit) {
  return {.check = check_dim_at_most, .text = absl::StrCat("dim", dim, "(", value, ") <= ", limit), .names = {value},
          .limit = limit, .word = absl::StrCat(dim), .hint = "the kernel's scratch or grid is sized for so few"};
}

Condition same_dtype(std::vector<std::string> values) {
  return {.check = check_same_dtype, .text = function_of("dtype", values, " == "), .names = std::move(values),
          .hint = "one fused kernel serves one dtype"};
}

Condition same_shape(std::vector<std::string> values) {
  return {.check = check_same_shape, .text = function_of("shape", values, " == "), .names = std::move(values),
          .hint = "the fused op does not broadcast"};
}

Condition matrices(std::vector<std::string> values) {
  return {.check = check_matrices, .text = function_of("rank", values, " == ") + " == 2",
          .names = std::move(values), .hint = "fused kernels read 2-D weights shared by every row"};
}

Condition dtype_is(std::string value, ir::DType dtype) {
  return {.check = check_dtype_is, .text = absl::StrCat("dtype(", value, ") == ", std::string(ir::dtype_name(dtype))),
          .names = {value}, .word = std::string(ir::dtype_name(dtype))};
}

Condition same_attr(std::string attr, std::vector<std::string> nodes) {
  return {.check = check_same_attr, .text = function_of(attr.c_str(), nodes, " == "), .names = std::move(nodes),
          .word = attr, .hint = absl::StrCat("the fused op has one ", attr)};
}

Condition fits_workgroup_memory(std::string value, int64_t bytes_per_element) {
  return {.check = check_fits_workgroup_memory,
          .text = absl::StrCat("cols(", value, ") * ", bytes_per_element, " <= target.shared_memory_bytes"),
          .names = {value}, .limit = bytes_per_element,
          .hint = "the fused kernel keeps a row of it in workgroup memory"};
}

Condition backend_is(std::string backend) {
  return {.check = check_backend_is, .text = absl::StrCat("target.backend == ", backend), .word = backend};
}

Condition target_has_f16() { return {.check = check_has_f16, .text = "target.has_f16"}; }

Condition target_has_subgroups() { return {.check = check_has_subgroups, .text = "target.subgroup_size > 0"}; }

Condition target_has_workgroups() {
  return {.check = check_has_workgroups, .text = "target.shared_memory_bytes > 0"};
}

Condition target_has_cooperative_matrix() {
  return {.check = check_has_cooperative_matrix, .text = "target.has_cooperative_matrix"};
}

}  // namespace kiln::passes
