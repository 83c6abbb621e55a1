#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/graph.h"

namespace kiln::passes {

// A pattern over ops, written as the algebra it matches:
//
//   y:rmsnorm(s:add(r, h:matmul(x, w)), g)
//   q:matmul(x, wq); k:matmul(x, wk); v:matmul(x, wv)
//   y:matmul
//
// Grammar:
//   pattern := tree (';' tree)*
//   tree    := name                                a capture
//            | [name ':'] ops '(' tree, ... ')'     a node with exactly these operands
//            | name ':' ops                         a node with any operands
//   ops     := op ('|' op)* | '*'
//
// A capture binds any value; a capture named twice must bind one value (the
// shared x of gate and up). A capture may name a node met before it (depth
// first, trees in order): it reads that node's result (q's tree matches
// n:rmsnorm, k's reads n). A named node binds its (first) result under its
// name, so conditions and the fused form can refer to it. A node matches a
// node whose op is in `ops` ('*': any op); inside a tree, only one with a
// single result, so a fused op is never part of a pattern. Commutative ops
// (OpDef::commutative) match their two operands in either order. Matching
// reads graph structure and op semantics only, never value names.
//
// The first tree is anchored at the candidate site. Each later tree matches
// a node that reads a value an earlier tree captured, directly or through as
// many nodes as the tree has levels above that capture, and comes after the
// previous tree's node in program order: siblings sharing an input, as the
// q, k and v projections share x (or their cache writes share it through
// rope and reshape).
struct PatternNode {
  std::string name;               // capture or node name; empty for an unnamed node
  std::vector<std::string> ops;   // empty for a capture; {"*"} for any op
  bool any_operands = false;      // "y:matmul": operands are not matched
  std::vector<PatternNode> operands;

  bool is_capture() const { return ops.empty(); }
  bool matches_op(std::string_view op) const;
};

class Pattern {
 public:
  // Errors name the pattern and the offending text.
  static absl::StatusOr<Pattern> parse(std::string_view text);

  const std::string& text() const { return text_; }
  const std::vector<PatternNode>& trees() const { return trees_; }
  bool binds(std::string_view name) const { return binds_node(name) || binds_capture(name); }
  bool binds_node(std::string_view name) const;
  bool binds_capture(std::string_view name) const;
  // The names of the trees' root nodes, in order.
  std::vector<std::string> root_names() const;

 private:
  std::string text_;
  std::vector<PatternNode> trees_;
  std::vector<std::string> node_names_;
  std::vector<std::string> capture_names_;
};

// One way a pattern matches the graph.
struct Match {
  std::map<std::string, ir::Value*> values;  // every bound name: captures and named nodes' results
  std::map<std::string, ir::Node*> nodes;    // named nodes
  std::vector<ir::Node*> covered;            // every node the pattern matched
  std::vector<ir::Node*> roots;              // the trees' root nodes, in tree order
};

// Every way `pattern` matches with its first tree anchored at `site` (a few
// at most: commutative operand orders, sibling choices), in a fixed order:
// operands as written before swapped, siblings in program order. When there
// is none, `out_mismatch` (if given) says where the first attempt failed
// (else it is cleared):
// "operand 0 of %m = mul: %r = relu is not silu|gelu".
std::vector<Match> match_pattern(const Pattern& pattern, const ir::Graph& graph, ir::Node& site,
                                 std::string* out_mismatch = nullptr);

}  // namespace kiln::passes
