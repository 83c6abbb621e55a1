#include "frontend/bpe_merges.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <span>

namespace kiln::frontend {

bool BpeMergeTable::add(int32_t left, int32_t right, Rule rule) {
  return rules_.try_emplace(key(left, right), rule).second;
}

const BpeMergeTable::Rule* BpeMergeTable::find(int32_t left, int32_t right) const {
  const auto it = rules_.find(key(left, right));
  return it == rules_.end() ? nullptr : &it->second;
}

namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

// A candidate merge is the pair starting at symbol `left`, queued with the
// rank its rule had: rank in the high half and position in the low half, so
// that the smallest key is the lowest rank, then the leftmost pair. Eight
// bytes a candidate keep the heap small; on a long word its cache misses
// are most of the cost.
uint64_t candidate_key(int32_t rank, uint32_t left) {
  return (uint64_t{static_cast<uint32_t>(rank)} << 32) | left;
}

// Merges a word of fewer than 2^32 symbols.
void merge_window(const BpeMergeTable& table, std::span<int32_t> symbols) {
  const auto n = static_cast<uint32_t>(symbols.size());
  if (n < 2) return;
  std::vector<uint32_t> prev(n), next(n);
  for (uint32_t i = 0; i < n; ++i) {
    prev[i] = i == 0 ? kNone : i - 1;
    next[i] = i + 1 == n ? kNone : i + 1;
  }
  // The rule of the pair now starting at `left`, if it has one.
  const auto rule_at = [&](uint32_t left) -> const BpeMergeTable::Rule* {
    if (symbols[left] == kMergedAway || next[left] == kNone) return nullptr;
    return table.find(symbols[left], symbols[next[left]]);
  };
  std::vector<uint64_t> initial;
  for (uint32_t i = 0; i + 1 < n; ++i) {
    if (const BpeMergeTable::Rule* rule = rule_at(i)) initial.push_back(candidate_key(rule->rank, i));
  }
  // Built in O(n) rather than by n pushes.
  std::priority_queue<uint64_t, std::vector<uint64_t>, std::greater<>> queue(std::greater<>(),
                                                                            std::move(initial));
  while (!queue.empty()) {
    const uint64_t key = queue.top();
    queue.pop();
    const auto left = static_cast<uint32_t>(key);
    // A candidate is stale once its pair has changed. If the pair there now
    // has a rule of the same rank, merging it is what its own candidate,
    // queued with the same key, would do; otherwise that candidate decides.
    const BpeMergeTable::Rule* rule = rule_at(left);
    if (rule == nullptr || candidate_key(rule->rank, left) != key) continue;
    const uint32_t right = next[left];
    symbols[left] = rule->merged;
    symbols[right] = kMergedAway;
    next[left] = next[right];
    if (next[right] != kNone) prev[next[right]] = left;
    for (const uint32_t changed : {prev[left], left}) {
      if (changed == kNone) continue;
      if (const BpeMergeTable::Rule* fresh = rule_at(changed)) {
        queue.push(candidate_key(fresh->rank, changed));
      }
    }
  }
}

}  // namespace

void apply_bpe_merges(const BpeMergeTable& table, std::vector<int32_t>& symbols) {
  // A word of 2^32 symbols or more (over 4 GiB of text) is merged one window
  // at a time.
  constexpr size_t kWindow = kNone;
  const std::span<int32_t> all(symbols);
  for (size_t begin = 0; begin < all.size(); begin += kWindow) {
    merge_window(table, all.subspan(begin, std::min(kWindow, all.size() - begin)));
  }
}

}  // namespace kiln::frontend
