#include "passes/hazards.h"

#include <vector>

#include "program/step.h"

namespace kiln::passes {
namespace {

struct Range {
  program::Region region;
  int64_t begin, end;

  bool overlaps(const Range& other) const {
    return region == other.region && begin < other.end && other.begin < end;
  }
};

struct Access {
  std::vector<Range> reads, writes;
};

void add(const std::vector<program::TensorRef>& refs, const program::StepValues& bounds, std::vector<Range>& out) {
  for (const program::TensorRef& ref : refs) {
    if (ref.region == program::Region::weight) continue;  // read-only: never a hazard
    out.push_back({ref.region, ref.offset, ref.offset + program::byte_size(ref, bounds)});
  }
}

bool any_overlap(const std::vector<Range>& a, const std::vector<Range>& b) {
  for (const Range& x : a) {
    for (const Range& y : b) {
      if (x.overlaps(y)) return true;
    }
  }
  return false;
}

bool conflicts(const Access& earlier, const Access& later) {
  return any_overlap(earlier.writes, later.reads) || any_overlap(earlier.writes, later.writes) ||
         any_overlap(earlier.reads, later.writes);
}

}  // namespace

void compute_hazards(program::Program& program) {
  const program::StepValues bounds = program::bound_step(program);
  const size_t count = program.dispatches.size();
  std::vector<Access> access(count);
  for (size_t i = 0; i < count; ++i) {
    add(program.dispatches[i].inputs, bounds, access[i].reads);
    add(program.dispatches[i].outputs, bounds, access[i].writes);
  }
  // ordered[i][j]: dispatch j < i is ordered before i, directly or not.
  std::vector<std::vector<bool>> ordered(count, std::vector<bool>(count, false));
  for (size_t i = 0; i < count; ++i) {
    std::vector<int32_t>& after = program.dispatches[i].after;
    after.clear();
    // Latest first: a later conflict orders, through its own list, every
    // earlier one it is ordered after.
    for (size_t j = i; j-- > 0;) {
      if (ordered[i][j] || !conflicts(access[j], access[i])) continue;
      after.insert(after.begin(), static_cast<int32_t>(j));
      ordered[i][j] = true;
      for (size_t k = 0; k < j; ++k) ordered[i][k] = ordered[i][k] || ordered[j][k];
    }
  }
}

}  // namespace kiln::passes
