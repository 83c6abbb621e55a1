#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ir/dtype.h"
#include "ir/graph.h"
#include "passes/fusion_pattern.h"
#include "passes/target.h"

namespace kiln::passes {

// What a condition reads: one match of a rule's pattern, the graph it lives
// in (for the symbols' bounds) and the target.
struct ConditionContext {
  const ir::Graph& graph;
  const Match& match;
  const Target& target;
};

// A named predicate that prints itself. `text` is how a rule table reads it
// ("rows(h) == 1"); `check` returns "" when it holds, else what the graph or
// target has instead ("rows of %h are T (bound 128)"); `hint` says why a rule
// wants it. Rows build conditions with the factories below, never with
// lambdas, so every rule can be listed and every refusal explained.
//
// Dims. "rows" are all leading dims flattened and "cols" the last dim, as in
// ir/ops.cc. A symbolic dim counts at its declared upper bound: `rows(h) == 1`
// holds for a static 1 and for a symbol bounded by 1 (a decode graph declares
// `symbol T <= 1`), and never for `T <= 128`, even though some steps of such
// a graph have one token: a Program is compiled once for every step up to
// the bound.
struct Condition {
  using Check = std::string (*)(const Condition& self, const ConditionContext& context);
  Check check = nullptr;
  std::string text = {};
  std::vector<std::string> names = {};  // the pattern names it reads
  int64_t limit = 0;
  std::string word = {};  // an attribute name, dtype or backend, for the conditions that take one
  std::string hint = {};
};

// "" when `condition` holds; else "needs <text>, but <found> — <hint>".
std::string refusal(const Condition& condition, const ConditionContext& context);

// A check beyond a rule's own conditions ("" when the match is acceptable):
// the fusion engine's escape, cycle and shape checks.
using MatchCheck = std::function<std::string(const Match& match)>;

// What one rule row says at one site.
struct RuleVerdict {
  std::optional<Match> match;  // set when the rule applies
  bool pattern_matched = false;  // the pattern matched, whatever the conditions said
  // Why the rule does not apply: for the first match the pattern found, each
  // failing condition (joined by "; "); else where the pattern did not match.
  std::string refusal;
};

// Evaluates one rule row at `site`, the way every table does: the first
// match of `pattern` that meets every condition of `when` and then `accept`
// (when given).
RuleVerdict evaluate_rule(const Pattern& pattern, const std::vector<Condition>& when, const ir::Graph& graph,
                          ir::Node& site, const Target& target, const MatchCheck& accept);

// ---- Shapes and types of matched values --------------------------------------

// rows(v) == 1: one token per step.
Condition decode(std::string value);
// cols(v) <= limit.
Condition cols_at_most(std::string value, int64_t limit);
// cols(v) >= limit: a row long enough that one workgroup would be slow.
Condition cols_at_least(std::string value, int64_t limit);
// dim<d>(v) <= limit, at its bound: dim_at_most("y", 0, 1) holds for
// attention's [T, Hq, Dh] output in a decode graph, where rows(y) is Hq.
Condition dim_at_most(std::string value, int64_t dim, int64_t limit);
// Every value has the same dtype: one fused kernel serves one dtype.
Condition same_dtype(std::vector<std::string> values);
// Every value has the same shape (no broadcast).
Condition same_shape(std::vector<std::string> values);
// Every value is 2-D: a weight shared by all rows.
Condition matrices(std::vector<std::string> values);
// dtype(v) == dtype.
Condition dtype_is(std::string value, ir::DType dtype);
// attr(n) is equal on every named node: one fused op carries one value.
Condition same_attr(std::string attr, std::vector<std::string> nodes);

// ---- The target's capabilities -----------------------------------------------

// cols(v) * bytes_per_element <= target.shared_memory_bytes: a row of v fits
// one workgroup's memory. A target without workgroup memory (the cpu plugin
// reports 0) has no such limit.
Condition fits_workgroup_memory(std::string value, int64_t bytes_per_element);
Condition backend_is(std::string backend);
Condition target_has_f16();
Condition target_has_subgroups();
Condition target_has_cooperative_matrix();
// The target spreads a product over workgroups (a GPU: the cpu plugin
// reports no workgroup memory), so every workgroup reads the whole input
// row and a norm can be recomputed in each one's prologue.
Condition target_has_workgroups();

}  // namespace kiln::passes
