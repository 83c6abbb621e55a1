#include "passes/fusion_engine.h"
#include "passes/variant_rules.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "ir/op_registry.h"
#include "ir/text.h"

namespace kiln::passes {

// ---- The engine's checks, common to every rule --------------------------------

namespace {

bool is_result(const FusedForm& form, const Match& match, const ir::Value* value) {
  return std::any_of(form.results.begin(), form.results.end(),
                     [&](const std::string& name) { return match.values.at(name) == value; });
}

// An intermediate read outside the pattern would lose its producer.
std::string escape_refusal(const ir::Graph& graph, const CompiledRule& rule, const Match& match) {
  const std::set<const ir::Node*> covered(match.covered.begin(), match.covered.end());
  for (const ir::Node* node : match.covered) {
    const ir::Value* value = node->output();
    if (is_result(rule.form, match, value)) continue;
    if (graph.is_output(value)) {
      return absl::StrCat("intermediate %", value->name(), " is a graph output, and ", rule.form.op,
                          " does not write it");
    }
    for (const ir::Use& use : value->uses()) {
      if (!covered.contains(use.node)) {
        return absl::StrCat("intermediate %", value->name(), " is also read by ", use.node->label(), ", and ",
                            rule.form.op, " does not write it");
      }
    }
  }
  return "";
}

// An operand computed from the pattern's own values would have to exist
// before the fused node that produces them.
std::string cycle_refusal(const ir::Graph& graph, const CompiledRule& rule, const Match& match) {
  const std::set<const ir::Node*> covered(match.covered.begin(), match.covered.end());
  int64_t first = graph.node_index(match.covered.front());
  for (const ir::Node* node : match.covered) first = std::min(first, graph.node_index(node));
  for (const std::string& name : rule.form.operands) {
    const ir::Value* operand = match.values.at(name);
    std::vector<const ir::Node*> pending = {operand->producer()};
    std::unordered_set<const ir::Node*> seen;
    while (!pending.empty()) {
      const ir::Node* node = pending.back();
      pending.pop_back();
      if (node == nullptr || !seen.insert(node).second || graph.node_index(node) < first) continue;
      if (covered.contains(node)) {
        return absl::StrCat("operand %", operand->name(), " depends on ", node->label(),
                            ", which the fused op replaces: fusing would create a cycle");
      }
      for (const ir::Value* input : node->inputs()) pending.push_back(input->producer());
    }
  }
  return "";
}

std::string shape_refusal(const CompiledRule& rule, const Match& match) {
  const ir::OpDef& def = *ir::find_op(rule.form.op);
  ir::Attributes attrs = rule.form.attributes(match);
  for (const ir::AttrSpec& spec : def.attrs) {
    if (spec.default_value) attrs.emplace(spec.name, *spec.default_value);
  }
  std::vector<ir::TensorType> types;
  for (const std::string& name : rule.form.operands) types.push_back(match.values.at(name)->type());
  absl::StatusOr<std::vector<ir::TensorType>> results = def.infer({def.name, types, attrs});
  if (!results.ok()) return absl::StrCat(def.name, " refuses these operands: ", results.status().message());
  if (results->size() != rule.form.results.size()) {
    return absl::StrCat(def.name, " gives ", results->size(), " results and the rule names ", rule.form.results.size());
  }
  return "";
}

// A backend lands before it implements every fused op: where its variant
// table has no kernel for the rule's result, the primitive ops stay.
std::string kernel_refusal(const CompiledRule& rule, const Target& target) {
  if (has_kernel(target, rule.form.op)) return "";
  return absl::StrCat("the ", target.backend, " backend has no kernel for ", rule.form.op);
}

MatchCheck engine_check(const ir::Graph& graph, const CompiledRule& rule, const Target& target) {
  return [&graph, &rule, &target](const Match& match) {
    if (std::string why = kernel_refusal(rule, target); !why.empty()) return why;
    if (std::string why = escape_refusal(graph, rule, match); !why.empty()) return why;
    if (std::string why = cycle_refusal(graph, rule, match); !why.empty()) return why;
    return shape_refusal(rule, match);
  };
}

// ---- Rewriting -----------------------------------------------------------------

// Replaces the matched nodes with one fused node whose results take the
// names of the values they replace, so the text form reads
// `%y = matmul_rmsnorm(...)`. The graph has no rename: the fused node is
// built once under fresh names, the matched nodes go, and a twin takes the
// freed names.
absl::StatusOr<ir::Node*> rewrite(ir::Graph& graph, const CompiledRule& rule, const Match& match) {
  std::vector<ir::Value*> operands;
  for (const std::string& name : rule.form.operands) operands.push_back(match.values.at(name));
  std::vector<ir::Node*> doomed = match.covered;
  std::sort(doomed.begin(), doomed.end(),
            [&](const ir::Node* a, const ir::Node* b) { return graph.node_index(a) > graph.node_index(b); });
  std::vector<std::string> names;
  for (const std::string& result : rule.form.results) names.push_back(match.values.at(result)->name());
  const ir::Attributes attrs = rule.form.attributes(match);

  absl::StatusOr<ir::Node*> fused = graph.add_node(rule.form.op, operands, attrs, {}, doomed.front());
  if (!fused.ok()) return fused.status();
  for (size_t i = 0; i < names.size(); ++i) {
    graph.replace_all_uses(match.values.at(rule.form.results[i]), (*fused)->output(static_cast<int>(i)));
  }
  for (ir::Node* node : doomed) {
    if (absl::Status s = graph.erase_node(node); !s.ok()) return s;
  }
  absl::StatusOr<ir::Node*> named = graph.add_node(rule.form.op, operands, attrs, names, *fused);
  if (!named.ok()) return named.status();
  for (size_t i = 0; i < names.size(); ++i) {
    graph.replace_all_uses((*fused)->output(static_cast<int>(i)), (*named)->output(static_cast<int>(i)));
  }
  if (absl::Status s = graph.erase_node(*fused); !s.ok()) return s;
  // A reader of a tee'd intermediate may sit before the fused node.
  if (absl::Status s = graph.sort_topologically(); !s.ok()) return s;
  return *named;
}

// ---- Recording decisions ---------------------------------------------------------

// Keeps, per site, the verdict of each rule tried there. A later verdict
// replaces an earlier one, except that a pattern mismatch does not replace a
// refusal by conditions: once a later rule has fused part of the pattern
// away, the refusal that left it free to do so is the one worth explaining
// ("rows of x are T (bound 128)", not "%m is now a fused_gate_up").
class Recorder {
 public:
  void attempt(const ir::Node& site, const std::string& rule, const RuleVerdict& verdict) {
    Site& entry = sites_[site.output()->name()];
    entry.op = site.op();
    entry.decision.site = site.label();
    entry.decision.value = site.output()->name();
    std::vector<RuleAttempt>& attempts = entry.decision.attempts;
    auto it = std::find_if(attempts.begin(), attempts.end(), [&](const RuleAttempt& a) { return a.rule == rule; });
    RuleAttempt attempt{rule, verdict.refusal, verdict.pattern_matched};
    if (it == attempts.end()) {
      attempts.push_back(std::move(attempt));
    } else if (verdict.pattern_matched || !it->pattern_matched) {
      *it = std::move(attempt);
    }
  }

  void fused(const std::string& value, std::string fused_node, std::string why) {
    SiteDecision decision = std::move(sites_[value].decision);
    sites_.erase(value);
    decision.fused = std::move(fused_node);
    decision.why = std::move(why);
    fused_.push_back(std::move(decision));
  }

  // Fused sites, and the unfused sites still in `graph` as they were tried,
  // in program order.
  FusionReport report(const ir::Graph& graph) const {
    FusionReport report{fused_};
    for (const auto& [value, entry] : sites_) {
      const ir::Value* site = graph.find_value(value);
      if (site != nullptr && site->producer() != nullptr && site->producer()->op() == entry.op) {
        report.sites.push_back(entry.decision);
      }
    }
    auto position = [&](const SiteDecision& d) { return graph.node_index(graph.find_value(d.value)->producer()); };
    std::stable_sort(report.sites.begin(), report.sites.end(),
                     [&](const SiteDecision& a, const SiteDecision& b) { return position(a) < position(b); });
    return report;
  }

 private:
  struct Site {
    std::string op;  // the site's op when tried; a fused node may later take its name
    SiteDecision decision;
  };
  std::vector<SiteDecision> fused_;
  std::map<std::string, Site> sites_;
};

// Applies the first rule of `table` that matches at the last site (in
// program order) where any does. Returns whether it fused.
absl::StatusOr<bool> fuse_once(ir::Graph& graph, const CompiledTable& table, const Target& target, Recorder& recorder) {
  const auto nodes = graph.nodes();
  for (size_t i = nodes.size(); i-- > 0;) {
    ir::Node& site = *nodes[i];
    for (const CompiledRule& rule : table.rules) {
      if (!rule.pattern.trees()[0].matches_op(site.op())) continue;
      const RuleVerdict verdict =
          evaluate_rule(rule.pattern, rule.row.when, graph, site, target, engine_check(graph, rule, target));
      recorder.attempt(site, rule.row.name, verdict);
      if (!verdict.match) continue;
      const std::string site_value = site.output()->name();
      absl::StatusOr<ir::Node*> fused = rewrite(graph, rule, *verdict.match);
      if (!fused.ok()) {
        return absl::InternalError(
            absl::StrCat("rule ", rule.row.name, " at %", site_value, ": ", fused.status().message()));
      }
      recorder.fused(site_value, ir::print_node(**fused), rule.row.why);
      return true;
    }
  }
  return false;
}

}  // namespace

// ---- The driver ------------------------------------------------------------------

int FusionReport::fusions() const {
  return static_cast<int>(
      std::count_if(sites.begin(), sites.end(), [](const SiteDecision& d) { return !d.fused.empty(); }));
}

absl::StatusOr<FusionReport> run_fusion(ir::Graph& graph, const std::vector<CompiledTable>& tables,
                                        const Target& target) {
  Recorder recorder;
  bool changed = true;
  while (changed) {
    changed = false;
    for (const CompiledTable& table : tables) {
      for (;;) {
        absl::StatusOr<bool> fused = fuse_once(graph, table, target, recorder);
        if (!fused.ok()) return fused.status();
        if (!*fused) break;
        changed = true;
      }
    }
  }
  return recorder.report(graph);
}

std::string format_fusion_report(const FusionReport& report) {
  std::string out;
  for (const SiteDecision& site : report.sites) {
    for (const RuleAttempt& attempt : site.attempts) {
      if (attempt.refusal.empty()) {
        absl::StrAppend(&out, "fuse: fused ", attempt.rule, " at ", site.site, ": ", site.fused, " — ", site.why,
                        "\n");
      } else {
        absl::StrAppend(&out, "fuse: rejected ", attempt.rule, " at ", site.site, ": ", attempt.refusal, "\n");
      }
    }
  }
  absl::StrAppend(&out, "fuse: ", report.fusions(), " fused of ", report.sites.size(), " candidate sites\n");
  return out;
}

}  // namespace kiln::passes
