#pragma once

#include <cstdint>
#include <vector>

namespace kiln::passes {

// A block of the arena that is live over program positions [first, last]
// (inclusive) and holds `bytes` bytes.
struct LiveBlock {
  int64_t first = 0;
  int64_t last = 0;
  int64_t bytes = 0;
};

struct ArenaPlacement {
  std::vector<int64_t> offsets;  // per block, bytes, multiples of the alignment
  int64_t arena_bytes = 0;       // a multiple of the alignment
};

// Gives every block an offset such that no two blocks live at the same
// position share a byte; `alignment` is a power of two. Each block is placed
// best fit (Pisarchyk & Lee, "Efficient Memory Management for Deep Neural
// Net Inference", 2020): in the smallest gap between already placed blocks
// whose lifetimes overlap its own, else above all of them. Several placement
// orders are tried and the smallest arena kept.
ArenaPlacement place_in_arena(const std::vector<LiveBlock>& blocks, int64_t alignment);

// The largest sum of bytes live at one position: no placement of `blocks`
// needs fewer.
int64_t peak_live_bytes(const std::vector<LiveBlock>& blocks);

}  // namespace kiln::passes
