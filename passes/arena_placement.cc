#include "passes/arena_placement.h"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>

namespace kiln::passes {
namespace {

int64_t align_up(int64_t bytes, int64_t alignment) { return (bytes + alignment - 1) / alignment * alignment; }

bool live_together(const LiveBlock& a, const LiveBlock& b) { return a.first <= b.last && b.first <= a.last; }

int64_t lifetime(const LiveBlock& b) { return b.last - b.first + 1; }

// Bytes live at each position, from the earliest first to the latest last.
std::map<int64_t, int64_t> live_bytes_by_position(const std::vector<LiveBlock>& blocks) {
  std::map<int64_t, int64_t> delta;
  for (const LiveBlock& b : blocks) {
    delta[b.first] += b.bytes;
    delta[b.last + 1] -= b.bytes;
  }
  std::map<int64_t, int64_t> live;
  int64_t running = 0;
  for (const auto& [position, change] : delta) live[position] = running += change;
  return live;
}

// ---- Placement orders ----------------------------------------------------
// Each returns the block indices in the order they are placed.

using PlacementOrder = std::vector<size_t> (*)(const std::vector<LiveBlock>& blocks);

std::vector<size_t> sorted_by(const std::vector<LiveBlock>& blocks,
                              bool (*before)(const LiveBlock&, const LiveBlock&)) {
  std::vector<size_t> order(blocks.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return before(blocks[a], blocks[b]); });
  return order;
}

bool larger(const LiveBlock& a, const LiveBlock& b) {
  return a.bytes != b.bytes ? a.bytes > b.bytes : a.first < b.first;
}

// The paper's "greedy by size": largest first.
std::vector<size_t> larger_first(const std::vector<LiveBlock>& blocks) { return sorted_by(blocks, larger); }

std::vector<size_t> longer_lived_first(const std::vector<LiveBlock>& blocks) {
  return sorted_by(blocks, [](const LiveBlock& a, const LiveBlock& b) {
    return lifetime(a) != lifetime(b) ? lifetime(a) > lifetime(b) : larger(a, b);
  });
}

// The paper's "greedy by breadth": the blocks live at the busiest position
// first (largest first among them), then those at the next busiest, ...
// The peak positions set the lower bound, so packing them first tends to
// meet it.
std::vector<size_t> busiest_position_first(const std::vector<LiveBlock>& blocks) {
  const std::map<int64_t, int64_t> live = live_bytes_by_position(blocks);
  std::vector<std::pair<int64_t, int64_t>> positions(live.begin(), live.end());
  std::stable_sort(positions.begin(), positions.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  const std::vector<size_t> by_size = larger_first(blocks);
  std::vector<bool> taken(blocks.size(), false);
  std::vector<size_t> order;
  for (const auto& [position, bytes] : positions) {
    for (size_t index : by_size) {
      if (taken[index] || blocks[index].first > position || position > blocks[index].last) continue;
      taken[index] = true;
      order.push_back(index);
    }
  }
  return order;
}

// The first order is the default; a later one is kept only when strictly
// smaller, so plans are stable when the orders agree.
constexpr PlacementOrder kPlacementOrders[] = {larger_first, busiest_position_first, longer_lived_first};

// ---- Best fit ------------------------------------------------------------

int64_t best_fit_offset(const std::vector<LiveBlock>& blocks, size_t index, const std::vector<size_t>& placed,
                        const std::vector<int64_t>& offsets, int64_t alignment) {
  const int64_t size = align_up(blocks[index].bytes, alignment);
  int64_t best_offset = -1;
  int64_t smallest_gap = std::numeric_limits<int64_t>::max();
  int64_t gap_start = 0;
  for (size_t other : placed) {
    if (!live_together(blocks[index], blocks[other])) continue;
    const int64_t gap = offsets[other] - gap_start;
    if (gap >= size && gap < smallest_gap) {
      smallest_gap = gap;
      best_offset = gap_start;
    }
    gap_start = std::max(gap_start, offsets[other] + align_up(blocks[other].bytes, alignment));
  }
  return best_offset >= 0 ? best_offset : gap_start;
}

ArenaPlacement place_in_order(const std::vector<LiveBlock>& blocks, const std::vector<size_t>& order,
                              int64_t alignment) {
  ArenaPlacement out;
  out.offsets.assign(blocks.size(), 0);
  std::vector<size_t> placed;  // by offset
  for (size_t index : order) {
    const int64_t offset = best_fit_offset(blocks, index, placed, out.offsets, alignment);
    out.offsets[index] = offset;
    auto at = std::upper_bound(placed.begin(), placed.end(), offset,
                               [&](int64_t value, size_t other) { return value < out.offsets[other]; });
    placed.insert(at, index);
    out.arena_bytes = std::max(out.arena_bytes, offset + align_up(blocks[index].bytes, alignment));
  }
  return out;
}

}  // namespace

ArenaPlacement place_in_arena(const std::vector<LiveBlock>& blocks, int64_t alignment) {
  ArenaPlacement best;
  bool first = true;
  for (PlacementOrder order : kPlacementOrders) {
    ArenaPlacement candidate = place_in_order(blocks, order(blocks), alignment);
    if (first || candidate.arena_bytes < best.arena_bytes) best = std::move(candidate);
    first = false;
  }
  return best;
}

int64_t peak_live_bytes(const std::vector<LiveBlock>& blocks) {
  int64_t peak = 0;
  for (const auto& [position, bytes] : live_bytes_by_position(blocks)) peak = std::max(peak, bytes);
  return peak;
}

}  // namespace kiln::passes
