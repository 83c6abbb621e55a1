#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "passes/fusion_condition.h"
#include "passes/fusion_pattern.h"

namespace kiln::passes {

// A fusion rule is data (STYLE.md §6): name · pattern · conditions · fused
// form · why. The fused form is written in the pattern's names:
//
//   "s, y = matmul_rmsnorm(x, w, g, r) {eps = y.eps, transpose_b = h.transpose_b}"
//
//  - results, in the fused op's result order: pattern values the fused node
//    replaces. Every tree's root must be one; an intermediate listed here is
//    written too (the tee form), so other readers of it keep working;
//  - operands: captures;
//  - attributes: `node.attr` copies a matched node's attribute (the fused
//    op's default when that node's op has none); `node.op` is its op name.
struct FusionRule {
  std::string name = {};     // "matmul_rmsnorm.decode"
  std::string pattern = {};  // fusion_pattern.h
  std::vector<Condition> when = {};
  std::string fused = {};
  std::string why = {};      // one line: what the fused kernel saves
};

// Rules in priority order: at a site, the first rule that matches wins.
struct FusionTable {
  std::string name;
  std::vector<FusionRule> rules;
};

// A fused form, parsed.
struct FusedForm {
  struct AttrSource {
    std::string attr;   // the fused op's attribute
    std::string node;   // a named pattern node
    std::string field;  // that node's attribute, or "op"
  };
  std::vector<std::string> results;
  std::string op;
  std::vector<std::string> operands;
  std::vector<AttrSource> attrs;

  static absl::StatusOr<FusedForm> parse(std::string_view text);
  // The fused node's attributes for `match`; those the form does not set,
  // or sets from a node whose op lacks the attribute, are left out (the
  // fused op's defaults fill them).
  ir::Attributes attributes(const Match& match) const;
};

struct CompiledRule {
  FusionRule row;
  Pattern pattern;
  FusedForm form;
};

struct CompiledTable {
  std::string name;
  std::vector<CompiledRule> rules;
};

// Checks every row once: its pattern parses; every name its conditions and
// fused form read is bound by the pattern; the fused op is a registered fused
// op with the attributes the form sets; every tree's root is a result.
// Errors name the table and the rule.
absl::StatusOr<std::vector<CompiledTable>> compile_tables(const std::vector<FusionTable>& tables);

}  // namespace kiln::passes
