// The planner on many random graphs, checked by an independent oracle: no
// two storages whose lifetimes overlap share a byte, every offset is aligned,
// in-place writes only take over storage nobody reads again, and the arena
// is at least the lower bound (and not far above it).

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ir/op_registry.h"
#include "passes/memory_planner.h"

namespace kiln::passes {
namespace {

// ---- A seeded generator of random DAGs -------------------------------------

class RandomGraph {
 public:
  explicit RandomGraph(uint32_t seed) : rng_(seed) {}

  ir::Graph build() {
    (void)graph_.declare_symbol("T", 8);
    const int inputs = pick(1, 3);
    for (int i = 0; i < inputs; ++i) {
      values_.push_back(*graph_.add_input(absl::StrCat("in", i), {ir::DType::f32, {random_rows(), random_cols()}}));
    }
    const int nodes = pick(5, 60);
    for (int i = 0; i < nodes; ++i) add_random_node();
    choose_outputs();
    return std::move(graph_);
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  // Rows are T (bound 8) or static; columns are multiples of 64 floats, so
  // every size is a multiple of the 256-byte alignment and the ratio to the
  // lower bound measures placement, not padding.
  ir::Dim random_rows() { return chance(0.3) ? ir::Dim::symbol("T") : ir::Dim(1 << pick(0, 3)); }
  ir::Dim random_cols() { return ir::Dim(64 * pick(1, 16)); }

  // Recent values are likelier operands, as in real networks.
  ir::Value* operand() {
    const int n = static_cast<int>(values_.size());
    const int back = std::min(n - 1, static_cast<int>(std::geometric_distribution<int>(0.3)(rng_)));
    return values_[n - 1 - back];
  }

  ir::Value* same_type_as(const ir::Value* a) {
    std::vector<ir::Value*> matches;
    for (ir::Value* v : values_) {
      if (v->type() == a->type()) matches.push_back(v);
    }
    return matches[pick(0, static_cast<int>(matches.size()) - 1)];
  }

  ir::Value* weight(ir::Shape shape) {
    return *graph_.add_weight(absl::StrCat("w", graph_.weights().size()), {ir::DType::f32, std::move(shape)});
  }

  ir::Value* add(std::string_view op, std::vector<ir::Value*> inputs, ir::Attributes attrs = {}) {
    ir::Value* first = inputs[0];
    absl::StatusOr<ir::Node*> node = graph_.add_node(op, std::move(inputs), std::move(attrs));
    EXPECT_TRUE(node.ok()) << node.status();
    return node.ok() ? (*node)->output() : first;
  }

  // Every pooled value is rank 2: [rows, cols].
  void add_random_node() {
    ir::Value* a = operand();
    const ir::Dim rows = a->type().shape[0];
    const int64_t cols = a->type().shape[1].value();
    static const char* kUnary[] = {"relu", "silu", "gelu"};
    ir::Value* result = nullptr;
    switch (pick(0, 5)) {
      case 0:
        result = add(kUnary[pick(0, 2)], {a});
        break;
      case 1:
        result = add("add", {a, same_type_as(a)});
        break;
      case 2:
        result = add("matmul", {a, weight({ir::Dim(cols), random_cols()})});
        break;
      case 3: {
        // A view, an op on the view, and a view back to rank 2.
        ir::Value* split = add("reshape", {a}, {{"shape", ir::Shape{rows, ir::Dim(2), ir::Dim(cols / 2)}}});
        ir::Value* op = add(kUnary[pick(0, 2)], {split});
        result = add("reshape", {op}, {{"shape", ir::Shape{rows, ir::Dim(cols)}}});
        break;
      }
      case 4:
        result = add("concat", {a, same_type_as(a)}, {{"axis", int64_t{1}}});
        break;
      default:
        result = add("scale", {a}, {{"scale", 0.5}});
        break;
    }
    values_.push_back(result);
  }

  void choose_outputs() {
    std::vector<ir::Value*> outputs;
    for (ir::Value* v : values_) {
      const bool unused = v->uses().empty() && v->kind() == ir::ValueKind::result;
      if ((unused && chance(0.8)) || chance(0.05)) outputs.push_back(v);
    }
    if (outputs.empty()) outputs.push_back(values_.back());
    graph_.set_outputs(std::move(outputs));
  }

  std::mt19937 rng_;
  ir::Graph graph_;
  std::vector<ir::Value*> values_;  // inputs and rank-2 results, in creation order
};

// ---- The oracle ---------------------------------------------------------------

// Storage groups as the oracle derives them: values joined by alias edges
// (views) and by in-place edges the plan took (result at its operand's
// offset). Lifetimes are computed here from the graph, not taken from the
// planner.
class Oracle {
 public:
  Oracle(const ir::Graph& graph, const MemoryPlan& plan) : graph_(graph), plan_(plan) {}

  void check() {
    index_values();
    join_shared_storage();
    check_alignment_and_bounds();
    check_no_live_overlap();
    EXPECT_GE(plan_.arena_bytes, plan_.lower_bound_bytes);
    EXPECT_EQ(plan_.lower_bound_bytes, lower_bound());
  }

 private:
  struct Info {
    int64_t first, last, bytes;
    int group;
  };

  void index_values() {
    const int64_t end = static_cast<int64_t>(graph_.nodes().size());
    for (const ir::Value* v : graph_.inputs()) info_[v] = {-1, -1, bytes(*v), next_group_++};
    for (int64_t i = 0; i < end; ++i) {
      const ir::Node& node = *graph_.nodes()[i];
      for (const ir::Value* in : node.inputs()) {
        if (info_.contains(in)) info_[in].last = std::max(info_[in].last, i);
      }
      for (const ir::Value* out : node.outputs()) info_[out] = {i, i, bytes(*out), next_group_++};
    }
    for (const ir::Value* out : graph_.outputs()) {
      if (info_.contains(out)) info_[out].last = end;
    }
  }

  int64_t bytes(const ir::Value& v) const { return *ir::byte_size(v.type(), graph_.symbol_bounds()); }

  int find(int g) { return parent_.contains(g) && parent_[g] != g ? parent_[g] = find(parent_[g]) : g; }

  void join_shared_storage() {
    for (const auto& node : graph_.nodes()) {
      const ir::OpDef& def = node->def();
      const ir::Value* result = node->output();
      const int aliased = def.aliased_operand(0);
      if (aliased >= 0 && info_.contains(node->input(aliased))) {
        parent_[find(info_[result].group)] = find(info_[node->input(aliased)].group);
        EXPECT_EQ(ref(result).offset, ref(node->input(aliased)).offset) << result->name();
      } else if (def.may_write_in_place_over >= 0 &&
                 ref(result).offset == ref(node->input(def.may_write_in_place_over)).offset) {
        check_in_place(*node, *node->input(def.may_write_in_place_over));
        parent_[find(info_[result].group)] = find(info_[node->input(def.may_write_in_place_over)].group);
      }
    }
  }

  // Writing over `operand` at `node` is legal only when nothing defined
  // before `node` in its storage is read after it, and that storage holds no
  // graph input or output.
  void check_in_place(const ir::Node& node, const ir::Value& operand) {
    const int64_t at = info_[node.output()].first;
    const int group = find(info_[&operand].group);
    for (const auto& [value, info] : info_) {
      if (find(info.group) != group || info.first >= at) continue;
      EXPECT_LE(info.last, at) << node.label() << " overwrote %" << value->name() << ", read later";
      EXPECT_NE(value->kind(), ir::ValueKind::input) << node.label() << " overwrote input %" << value->name();
      EXPECT_FALSE(graph_.is_output(value)) << node.label() << " overwrote output %" << value->name();
    }
    EXPECT_EQ(info_[&operand].bytes, info_[node.output()].bytes) << node.label();
  }

  const Placement& ref(const ir::Value* v) const { return plan_.placements.at(v->name()); }

  void check_alignment_and_bounds() {
    for (const auto& [value, info] : info_) {
      const Placement& r = ref(value);
      if (r.region != Region::arena) continue;
      EXPECT_EQ(r.offset % plan_.alignment, 0) << value->name();
      EXPECT_LE(r.offset + info.bytes, plan_.arena_bytes) << value->name();
    }
  }

  struct Group {
    int64_t first = INT64_MAX, last = INT64_MIN, offset = 0, bytes = 0;
    std::string name;
  };

  std::map<int, Group> groups() {
    std::map<int, Group> out;
    for (const auto& [value, info] : info_) {
      if (ref(value).region != Region::arena) continue;
      Group& g = out[find(info.group)];
      g.first = std::min(g.first, info.first);
      g.last = std::max(g.last, info.last);
      g.bytes = std::max(g.bytes, info.bytes);
      g.offset = ref(value).offset;
      if (g.name.empty() || value->producer() == nullptr) g.name = value->name();
    }
    return out;
  }

  void check_no_live_overlap() {
    const std::map<int, Group> all = groups();
    for (auto a = all.begin(); a != all.end(); ++a) {
      for (auto b = std::next(a); b != all.end(); ++b) {
        const bool live_together = a->second.first <= b->second.last && b->second.first <= a->second.last;
        const bool bytes_overlap = a->second.offset < b->second.offset + b->second.bytes &&
                                   b->second.offset < a->second.offset + a->second.bytes;
        EXPECT_FALSE(live_together && bytes_overlap)
            << "%" << a->second.name << " [" << a->second.first << ", " << a->second.last << "] at " << a->second.offset
            << " and %" << b->second.name << " [" << b->second.first << ", " << b->second.last << "] at "
            << b->second.offset;
      }
    }
  }

  int64_t lower_bound() {
    const std::map<int, Group> all = groups();
    int64_t peak = 0;
    for (int64_t t = -1; t <= static_cast<int64_t>(graph_.nodes().size()); ++t) {
      int64_t live = 0;
      for (const auto& [id, g] : all) live += g.first <= t && t <= g.last ? g.bytes : 0;
      peak = std::max(peak, live);
    }
    return peak;
  }

  const ir::Graph& graph_;
  const MemoryPlan& plan_;
  std::map<const ir::Value*, Info> info_;
  std::map<int, int> parent_;
  int next_group_ = 0;
};

TEST(MemoryPlannerPropertyTest, RandomGraphsNeverOverlapLiveStorage) {
  constexpr int kGraphs = 500;
  double worst = 1.0, total = 0;
  for (uint32_t seed = 1; seed <= kGraphs; ++seed) {
    ir::Graph graph = RandomGraph(seed).build();
    for (bool in_place : {true, false}) {
      absl::StatusOr<MemoryPlan> plan = plan_memory(graph, {.alignment = 256, .in_place = in_place});
      ASSERT_TRUE(plan.ok()) << "seed " << seed << ": " << plan.status();
      SCOPED_TRACE(absl::StrCat("seed ", seed, in_place ? " (in place)" : " (no in place)"));
      Oracle(graph, *plan).check();
      if (HasFailure()) return;
      const double ratio = static_cast<double>(plan->arena_bytes) / static_cast<double>(plan->lower_bound_bytes);
      worst = std::max(worst, ratio);
      total += ratio;
    }
  }
  std::printf("arena / lower bound over %d plans: mean %.4f, worst %.4f\n", 2 * kGraphs, total / (2 * kGraphs), worst);
  EXPECT_LE(worst, 1.5);
}

}  // namespace
}  // namespace kiln::passes
