#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/graph.h"
#include "passes/fusion_rule.h"
#include "passes/target.h"

namespace kiln::passes {

// What one rule said at one site.
struct RuleAttempt {
  std::string rule;
  std::string refusal;           // empty: the rule matched and was applied
  bool pattern_matched = false;  // the refusal came from conditions or the engine's checks
};

// Every rule tried at one candidate site (a node where some rule's first
// tree can be rooted), in table order.
struct SiteDecision {
  std::string site;                   // the site as it read when examined: "%y = rmsnorm"
  std::string value;                  // its first result's name, which a fused node keeps
  std::vector<RuleAttempt> attempts;  // the last one matched when `fused` is set
  std::string fused;                  // the fused node as printed; empty when no rule matched
  std::string why;                    // the matched rule's why
};

struct FusionReport {
  std::vector<SiteDecision> sites;  // in the final graph's program order
  int fusions() const;
};

// Runs the tables over `graph` until nothing changes and returns every
// decision. Order: tables in order, each to its own fixpoint, then all again
// until a whole round fuses nothing. Within a table, sites are visited from
// the last node in program order to the first, so the widest pattern (rooted
// at the consumer) is tried before one rooted at its producer; at a site,
// rules in table order. A rule applies at a match when its conditions hold
// and the engine finds that:
//  - no intermediate (a value the pattern computes that is not a result) is
//    read outside the pattern or is a graph output;
//  - no operand of the fused op depends on a value the pattern computes
//    (fusing would create a cycle);
//  - the fused op accepts the operands (its shape inference).
absl::StatusOr<FusionReport> run_fusion(ir::Graph& graph, const std::vector<CompiledTable>& tables,
                                        const Target& target);

// The report as --explain-fusion prints it, one line per rule tried:
//   fuse: rejected matmul_rmsnorm.decode at %y = rmsnorm: needs rows(h) == 1, but ...
//   fuse: fused residual_rmsnorm at %y = rmsnorm: %s, %y = residual_rmsnorm(...) — <why>
std::string format_fusion_report(const FusionReport& report);

}  // namespace kiln::passes
