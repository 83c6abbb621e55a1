#include "passes/memory_planner.h"

#include <algorithm>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "ir/op_registry.h"
#include "passes/arena_placement.h"

namespace kiln::passes {
namespace {

// Program-order positions: node i runs at i; graph inputs are live from
// kStart, graph outputs until `end` (one past the last node).
constexpr int64_t kStart = -1;

int64_t align_up(int64_t bytes, int64_t alignment) { return (bytes + alignment - 1) / alignment * alignment; }

// A block of bytes that one or more values share: a value, the views of it
// and the results written in place over it.
struct Storage {
  Region region = Region::arena;
  int32_t weight = -1;
  int64_t offset = 0;  // bytes, aligned
  int64_t bytes = 0;   // at the symbols' upper bounds
  int64_t first = 0;   // live over [first, last], inclusive (arena only)
  int64_t last = 0;
  // Why it may never be written over: it holds a graph input or output, a
  // weight or state (`pinned_kind`), namely `pinned_by`. Empty: an
  // intermediate.
  std::string pinned_kind;
  const ir::Value* pinned_by = nullptr;
};

Storage arena_storage(int64_t bytes, int64_t first, int64_t last) {
  Storage storage;
  storage.bytes = bytes;
  storage.first = first;
  storage.last = last;
  return storage;
}

Storage pinned_storage(Region region, std::string kind, const ir::Value* value) {
  Storage storage;
  storage.region = region;
  storage.pinned_kind = std::move(kind);
  storage.pinned_by = value;
  return storage;
}

class Planner {
 public:
  Planner(const ir::Graph& graph, const MemoryPlannerOptions& options, std::vector<std::string>* notes)
      : graph_(graph), options_(options), notes_(notes), end_(static_cast<int64_t>(graph.nodes().size())) {}

  absl::StatusOr<MemoryPlan> run() {
    compute_last_uses();
    if (absl::Status s = add_leaves(); !s.ok()) return s;
    for (int64_t i = 0; i < end_; ++i) {
      if (absl::Status s = add_results(*graph_.nodes()[i], i); !s.ok()) return s;
    }
    MemoryPlan plan;
    plan.alignment = options_.alignment;
    plan.arena_bytes = assign_arena_offsets();
    plan.lower_bound_bytes = lower_bound_bytes_;
    plan.state_bytes = state_bytes_;
    for (const auto& [value, storage] : storage_of_) {
      const Storage& s = storages_[storage];
      plan.placements[value->name()] = {s.region, s.offset, s.weight, value->type().dtype, value->type().shape};
    }
    return plan;
  }

 private:
  void compute_last_uses() {
    for (int64_t i = 0; i < end_; ++i) {
      for (const ir::Value* input : graph_.nodes()[i]->inputs()) last_use_[input] = i;
    }
    for (const ir::Value* output : graph_.outputs()) last_use_[output] = end_;
  }

  int64_t last_use(const ir::Value* value, int64_t defined_at) const {
    auto it = last_use_.find(value);
    return it == last_use_.end() ? defined_at : it->second;
  }

  absl::StatusOr<int64_t> bytes_of(const ir::Value& value) const {
    absl::StatusOr<int64_t> bytes = ir::byte_size(value.type(), graph_.symbol_bounds());
    if (!bytes.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("%", value.name(), " (", value.type().to_string(), "): ", bytes.status().message()));
    }
    return bytes;
  }

  void new_storage(const ir::Value* value, Storage storage) {
    storages_.push_back(std::move(storage));
    storage_of_[value] = static_cast<int>(storages_.size() - 1);
    pin_if_output(value);
  }

  void pin_if_output(const ir::Value* value) {
    Storage& storage = storages_[storage_of_[value]];
    if (storage.pinned_kind.empty() && graph_.is_output(value)) {
      storage.pinned_kind = "graph output";
      storage.pinned_by = value;
    }
  }

  absl::Status add_leaves() {
    for (const ir::Value* input : graph_.inputs()) {
      absl::StatusOr<int64_t> bytes = bytes_of(*input);
      if (!bytes.ok()) return bytes.status();
      Storage storage = pinned_storage(Region::arena, "graph input", input);
      storage.bytes = *bytes;
      storage.first = kStart;
      storage.last = last_use(input, kStart);
      new_storage(input, std::move(storage));
    }
    for (size_t i = 0; i < graph_.weights().size(); ++i) {
      const ir::Value* weight = graph_.weights()[i];
      Storage storage = pinned_storage(Region::weight, "weight", weight);
      storage.weight = static_cast<int32_t>(i);
      new_storage(weight, std::move(storage));
    }
    // State values are never reused: the KV cache outlives a run.
    for (const ir::Value* state : graph_.states()) {
      absl::StatusOr<int64_t> bytes = bytes_of(*state);
      if (!bytes.ok()) return bytes.status();
      Storage storage = pinned_storage(Region::state, "state", state);
      storage.offset = state_bytes_;
      storage.bytes = *bytes;
      new_storage(state, std::move(storage));
      state_bytes_ += align_up(*bytes, options_.alignment);
    }
    return absl::OkStatus();
  }

  // Joins `value` to `storage`, which then lives at least as long as it.
  void share(const ir::Value* value, int storage, int64_t index) {
    storage_of_[value] = storage;
    storages_[storage].last = std::max(storages_[storage].last, last_use(value, index));
    pin_if_output(value);
  }

  absl::Status add_results(const ir::Node& node, int64_t index) {
    const ir::OpDef& def = node.def();
    for (size_t r = 0; r < node.outputs().size(); ++r) {
      const ir::Value* result = node.output(static_cast<int>(r));
      if (const int aliased = def.aliased_operand(static_cast<int>(r)); aliased >= 0) {
        share(result, storage_of_.at(node.input(aliased)), index);
        continue;
      }
      absl::StatusOr<int64_t> bytes = bytes_of(*result);
      if (!bytes.ok()) return bytes.status();
      if (r == 0 && options_.in_place && def.may_write_in_place_over >= 0) {
        const ir::Value* operand = node.input(def.may_write_in_place_over);
        const std::string refusal = in_place_refusal(node, index, *bytes);
        note(refusal.empty() ? absl::StrCat(node.label(), ": writes in place over %", operand->name())
                             : absl::StrCat(node.label(), ": not in place over %", operand->name(), ": ", refusal));
        if (refusal.empty()) {
          share(result, storage_of_.at(operand), index);
          continue;
        }
      }
      new_storage(result, arena_storage(*bytes, index, last_use(result, index)));
    }
    return absl::OkStatus();
  }

  // Why `node`'s result may not take over its in-place operand's storage;
  // empty when it may.
  std::string in_place_refusal(const ir::Node& node, int64_t index, int64_t result_bytes) const {
    const int k = node.def().may_write_in_place_over;
    const ir::Value* operand = node.input(k);
    const int storage_index = storage_of_.at(operand);
    const Storage& storage = storages_[storage_index];
    const std::string name = absl::StrCat("%", operand->name());
    if (!storage.pinned_kind.empty()) {
      return storage.pinned_by == operand
                 ? absl::StrCat(name, " is a ", storage.pinned_kind)
                 : absl::StrCat(name, " shares storage with ", storage.pinned_kind, " %", storage.pinned_by->name());
    }
    if (storage.last > index) return absl::StrCat(name, " (or a view of it) is read after this node");
    for (size_t j = 0; j < node.inputs().size(); ++j) {
      if (static_cast<int>(j) != k && storage_of_.at(node.input(static_cast<int>(j))) == storage_index) {
        return absl::StrCat(name, "'s storage is also read as operand ", j, " (%",
                            node.input(static_cast<int>(j))->name(), ")");
      }
    }
    if (storage.bytes != result_bytes) {
      return absl::StrCat("the result needs ", result_bytes, " bytes, ", name, "'s storage holds ", storage.bytes);
    }
    return "";
  }

  void note(std::string line) {
    if (notes_ != nullptr) notes_->push_back(std::move(line));
  }

  // Places the arena storages (arena_placement.h). Returns the arena size.
  int64_t assign_arena_offsets() {
    std::vector<int> arena;
    std::vector<LiveBlock> blocks;
    for (size_t i = 0; i < storages_.size(); ++i) {
      if (storages_[i].region != Region::arena) continue;
      arena.push_back(static_cast<int>(i));
      blocks.push_back({storages_[i].first, storages_[i].last, storages_[i].bytes});
    }
    const ArenaPlacement placement = place_in_arena(blocks, options_.alignment);
    for (size_t i = 0; i < arena.size(); ++i) storages_[arena[i]].offset = placement.offsets[i];
    lower_bound_bytes_ = peak_live_bytes(blocks);
    return placement.arena_bytes;
  }

  const ir::Graph& graph_;
  MemoryPlannerOptions options_;
  std::vector<std::string>* notes_;
  int64_t end_;
  int64_t state_bytes_ = 0;
  int64_t lower_bound_bytes_ = 0;
  std::unordered_map<const ir::Value*, int64_t> last_use_;
  std::vector<Storage> storages_;
  std::unordered_map<const ir::Value*, int> storage_of_;
};

}  // namespace

absl::StatusOr<MemoryPlan> plan_memory(const ir::Graph& graph, const MemoryPlannerOptions& options,
                                       std::vector<std::string>* out_notes) {
  if (options.alignment <= 0 || (options.alignment & (options.alignment - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("alignment ", options.alignment, " is not a power of two"));
  }
  return Planner(graph, options, out_notes).run();
}

}  // namespace kiln::passes
