#include "passes/fusion_pattern.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/op_registry.h"

namespace kiln::passes {

bool PatternNode::matches_op(std::string_view op) const {
  return std::any_of(ops.begin(), ops.end(), [&](const std::string& o) { return o == "*" || o == op; });
}

bool Pattern::binds_node(std::string_view name) const {
  return std::find(node_names_.begin(), node_names_.end(), name) != node_names_.end();
}

bool Pattern::binds_capture(std::string_view name) const {
  return std::find(capture_names_.begin(), capture_names_.end(), name) != capture_names_.end();
}

std::vector<std::string> Pattern::root_names() const {
  std::vector<std::string> names;
  for (const PatternNode& tree : trees_) names.push_back(tree.name);
  return names;
}

// ---- Parsing ---------------------------------------------------------------

namespace {

class PatternParser {
 public:
  explicit PatternParser(std::string_view text) : text_(text) {}

  absl::StatusOr<std::vector<PatternNode>> parse() {
    std::vector<PatternNode> trees;
    do {
      absl::StatusOr<PatternNode> tree = parse_tree();
      if (!tree.ok()) return tree.status();
      trees.push_back(*std::move(tree));
    } while (consume(';'));
    skip_blanks();
    if (pos_ != text_.size()) return error("unexpected text");
    return trees;
  }

 private:
  absl::StatusOr<PatternNode> parse_tree() {
    PatternNode node;
    std::string first = consume('*') ? "*" : identifier();
    if (first.empty()) return error("expected a name or an op");
    if (consume(':')) {
      node.name = first;
      first = consume('*') ? "*" : identifier();
      if (first.empty()) return error(absl::StrCat("expected an op after '", node.name, ":'"));
    } else if (peek() != '(' && peek() != '|') {
      node.name = first;  // a capture
      return node;
    }
    node.ops.push_back(first);
    while (consume('|')) node.ops.push_back(identifier());
    for (const std::string& op : node.ops) {
      if (op != "*" && ir::find_op(op) == nullptr) return error(absl::StrCat("unknown op '", op, "'"));
    }
    if (!consume('(')) {
      if (node.name.empty()) return error("an unnamed node needs its operands");
      node.any_operands = true;
      return node;
    }
    do {
      absl::StatusOr<PatternNode> operand = parse_tree();
      if (!operand.ok()) return operand.status();
      node.operands.push_back(*std::move(operand));
    } while (consume(','));
    if (!consume(')')) return error("expected ')'");
    return node;
  }

  std::string identifier() {
    skip_blanks();
    const size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  bool consume(char c) {
    skip_blanks();
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  char peek() {
    skip_blanks();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  void skip_blanks() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  absl::Status error(const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrCat("pattern '", std::string(text_), "': ", what, " at column ",
                                                   pos_ + 1));
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// Collects names, depth first as the matcher visits them; a node name must
// be unique and differ from every capture, except that a capture may name a
// node visited before it: it reads that node's result (the norm that q's
// tree matched, read by k's and v's).
absl::Status collect_names(const PatternNode& node, std::set<std::string>& nodes, std::set<std::string>& captures) {
  if (node.is_capture()) {
    if (!nodes.contains(node.name)) captures.insert(node.name);
    return absl::OkStatus();
  }
  if (!node.name.empty()) {
    if (nodes.contains(node.name)) return absl::InvalidArgumentError(absl::StrCat("'", node.name, "' is bound twice"));
    if (captures.contains(node.name)) {
      return absl::InvalidArgumentError(absl::StrCat("'", node.name, "' names a node and a capture"));
    }
    nodes.insert(node.name);
  }
  for (const PatternNode& operand : node.operands) {
    if (absl::Status s = collect_names(operand, nodes, captures); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void capture_names(const PatternNode& node, std::set<std::string>& out) {
  if (node.is_capture()) out.insert(node.name);
  for (const PatternNode& operand : node.operands) capture_names(operand, out);
}

void node_names(const PatternNode& node, std::set<std::string>& out) {
  if (!node.is_capture() && !node.name.empty()) out.insert(node.name);
  for (const PatternNode& operand : node.operands) node_names(operand, out);
}

// Later trees are found through the values earlier trees bound, so each
// must be a named node that captures a value the trees before it bound.
absl::Status check_trees(const std::vector<PatternNode>& trees) {
  std::set<std::string> seen;
  for (size_t i = 0; i < trees.size(); ++i) {
    const PatternNode& tree = trees[i];
    if (tree.is_capture() || tree.name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("tree ", i + 1, " must be a named node"));
    }
    std::set<std::string> own;
    capture_names(tree, own);
    const bool linked = std::any_of(own.begin(), own.end(), [&](const std::string& n) { return seen.contains(n); });
    if (i > 0 && !linked) {
      return absl::InvalidArgumentError(absl::StrCat("tree ", i + 1, " shares no capture with the trees before it"));
    }
    seen.insert(own.begin(), own.end());
    node_names(tree, seen);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Pattern> Pattern::parse(std::string_view text) {
  absl::StatusOr<std::vector<PatternNode>> trees = PatternParser(text).parse();
  if (!trees.ok()) return trees.status();
  std::set<std::string> nodes, captures;
  for (const PatternNode& tree : *trees) {
    if (absl::Status s = collect_names(tree, nodes, captures); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("pattern '", std::string(text), "': ", s.message()));
    }
  }
  if (absl::Status s = check_trees(*trees); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("pattern '", std::string(text), "': ", s.message()));
  }
  Pattern pattern;
  pattern.text_ = std::string(text);
  pattern.trees_ = *std::move(trees);
  pattern.node_names_.assign(nodes.begin(), nodes.end());
  pattern.capture_names_.assign(captures.begin(), captures.end());
  return pattern;
}

// ---- Matching --------------------------------------------------------------

namespace {

std::string value_label(const ir::Value& value) {
  if (value.producer() != nullptr) return value.producer()->label();
  static constexpr const char* kKinds[] = {"graph input", "weight", "state", "result"};
  return absl::StrCat("%", value.name(), " (a ", kKinds[static_cast<int>(value.kind())], ")");
}

std::string ops_text(const PatternNode& node) { return absl::StrJoin(node.ops, "|"); }

// How many levels below `node` the capture `name` sits (1: an operand of
// node), its shallowest occurrence; -1 when `node` does not capture it.
int capture_depth(const PatternNode& node, const std::string& name) {
  if (node.is_capture()) return node.name == name ? 0 : -1;
  int best = -1;
  for (const PatternNode& operand : node.operands) {
    const int depth = capture_depth(operand, name);
    if (depth >= 0 && (best < 0 || depth + 1 < best)) best = depth + 1;
  }
  return best;
}

std::vector<ir::Node*> readers_of(const ir::Value& value) {
  std::vector<ir::Node*> readers;
  for (const ir::Use& use : value.uses()) readers.push_back(use.node);
  return readers;
}

// One step still to match: `pattern` against `value`, or, with `tree` >= 1
// and no value, a later tree still to be found among the readers of the
// captured values. `where` locates the step for mismatch messages.
struct Goal {
  const PatternNode* pattern = nullptr;
  ir::Value* value = nullptr;
  int tree = 0;
  std::string where;
  bool operand = false;  // inside a tree, not its root
};

// Depth-first search over the goals; each complete assignment is a match.
// Copies of the small state stand in for undo on backtracking.
class Matcher {
 public:
  Matcher(const Pattern& pattern, const ir::Graph& graph) : pattern_(pattern), graph_(graph) {}

  std::vector<Match> run(ir::Node& site) {
    Match match;
    match.roots.push_back(&site);
    std::vector<Goal> goals = {{&pattern_.trees()[0], site.output(), 0, ""}};
    for (size_t tree = 1; tree < pattern_.trees().size(); ++tree) {
      goals.push_back({nullptr, nullptr, static_cast<int>(tree), ""});
    }
    search(std::move(goals), std::move(match));
    return std::move(matches_);
  }
  const std::string& mismatch() const { return mismatch_; }

 private:
  // Enough for every commutative order and sibling choice of the built-in
  // rules; a bound, so a pathological graph cannot blow the search up.
  static constexpr size_t kMaxMatches = 64;

  void search(std::vector<Goal> goals, Match match) {
    if (matches_.size() >= kMaxMatches) return;
    if (goals.empty()) {
      matches_.push_back(std::move(match));
      return;
    }
    Goal goal = std::move(goals.front());
    goals.erase(goals.begin());
    if (goal.value == nullptr) return search_tree(goal, std::move(goals), std::move(match));
    if (goal.pattern->is_capture()) return bind_capture(goal, std::move(goals), std::move(match));
    match_node(goal, std::move(goals), std::move(match));
  }

  void bind_capture(const Goal& goal, std::vector<Goal> goals, Match match) {
    auto [it, inserted] = match.values.emplace(goal.pattern->name, goal.value);
    if (!inserted && it->second != goal.value) {
      return fail(goal, absl::StrCat("reads %", goal.value->name(), ", but ", goal.pattern->name, " is already %",
                                     it->second->name()));
    }
    search(std::move(goals), std::move(match));
  }

  void match_node(const Goal& goal, std::vector<Goal> goals, Match match) {
    const PatternNode& p = *goal.pattern;
    ir::Node* node = goal.value->producer();
    if (node == nullptr || !p.matches_op(node->op())) {
      return fail(goal, absl::StrCat(value_label(*goal.value), " is not ", ops_text(p)));
    }
    if (goal.operand && node->outputs().size() != 1) {
      return fail(goal, absl::StrCat(node->label(), " has several results"));
    }
    if (std::find(match.covered.begin(), match.covered.end(), node) != match.covered.end()) {
      return fail(goal, absl::StrCat(node->label(), " is already part of the match"));
    }
    if (!p.any_operands && node->inputs().size() != p.operands.size()) {
      return fail(goal, absl::StrCat(node->label(), " has ", node->inputs().size(), " operands, the pattern wants ",
                                     p.operands.size()));
    }
    if (!p.name.empty()) {
      // A capture of this name, reached first through a commutative swap,
      // must have bound this very node's result.
      auto bound = match.values.find(p.name);
      if (bound != match.values.end() && bound->second != node->output()) {
        return fail(goal, absl::StrCat(p.name, " is already %", bound->second->name()));
      }
    }
    match.covered.push_back(node);
    if (!p.name.empty()) {
      match.nodes[p.name] = node;
      match.values[p.name] = node->output();
    }
    if (p.any_operands) return search(std::move(goals), std::move(match));
    search(with_operands(*node, p, goals, false), match);
    if (node->def().commutative && p.operands.size() == 2) {
      search(with_operands(*node, p, goals, true), std::move(match));
    }
  }

  std::vector<Goal> with_operands(ir::Node& node, const PatternNode& p, const std::vector<Goal>& rest, bool swap) {
    std::vector<Goal> goals;
    for (size_t i = 0; i < p.operands.size(); ++i) {
      const size_t operand = swap ? 1 - i : i;
      goals.push_back({&p.operands[i], node.input(static_cast<int>(operand)), 0,
                       absl::StrCat("operand ", operand, " of ", node.label()), true});
    }
    goals.insert(goals.end(), rest.begin(), rest.end());
    return goals;
  }

  // A later tree: its root is a node that reads an already captured value,
  // directly or through as many nodes as the tree has levels above that
  // capture (rope(reshape(matmul(n, w))) reads n through two), after the
  // previous tree's root in program order.
  void search_tree(const Goal& goal, std::vector<Goal> goals, Match match) {
    const PatternNode& tree = pattern_.trees()[goal.tree];
    const int64_t after = graph_.node_index(match.roots.back());
    std::vector<ir::Node*> candidates;
    std::vector<std::string> links;
    for (const auto& [name, value] : match.values) {
      const int depth = capture_depth(tree, name);
      if (depth < 0) continue;
      links.push_back(absl::StrCat(name, " (%", value->name(), ")"));
      std::vector<ir::Node*> readers = readers_of(*value);
      for (int level = 1; !readers.empty(); ++level) {
        std::vector<ir::Node*> next;
        for (ir::Node* reader : readers) {
          if (tree.matches_op(reader->op()) && graph_.node_index(reader) > after) candidates.push_back(reader);
          if (level >= depth) continue;
          for (const ir::Value* result : reader->outputs()) {
            for (ir::Node* further : readers_of(*result)) next.push_back(further);
          }
        }
        readers = std::move(next);
      }
    }
    std::sort(candidates.begin(), candidates.end(),
              [&](ir::Node* a, ir::Node* b) { return graph_.node_index(a) < graph_.node_index(b); });
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    if (candidates.empty()) {
      return fail(goal, absl::StrCat("no other ", ops_text(tree), " after ", match.roots.back()->label(), " reads ",
                                     absl::StrJoin(links, " or "), " (the pattern's ", tree.name, ")"));
    }
    for (ir::Node* candidate : candidates) {
      Match next = match;
      next.roots.push_back(candidate);
      std::vector<Goal> with_root = goals;
      with_root.insert(with_root.begin(), Goal{&tree, candidate->output(), goal.tree, ""});
      search(std::move(with_root), std::move(next));
    }
  }

  void fail(const Goal& goal, const std::string& why) {
    if (!mismatch_.empty()) return;
    mismatch_ = goal.where.empty() ? why : absl::StrCat(goal.where, ": ", why);
  }

  const Pattern& pattern_;
  const ir::Graph& graph_;
  std::vector<Match> matches_;
  std::string mismatch_;
};

}  // namespace

std::vector<Match> match_pattern(const Pattern& pattern, const ir::Graph& graph, ir::Node& site,
                                 std::string* out_mismatch) {
  Matcher matcher(pattern, graph);
  std::vector<Match> matches;
  if (pattern.trees()[0].matches_op(site.op())) {
    matches = matcher.run(site);
  }
  if (out_mismatch != nullptr) {
    const std::string root_mismatch = absl::StrCat(site.label(), " is not ", ops_text(pattern.trees()[0]));
    *out_mismatch = !matches.empty() ? "" : !matcher.mismatch().empty() ? matcher.mismatch() : root_mismatch;
  }
  return matches;
}

}  // namespace kiln::passes
