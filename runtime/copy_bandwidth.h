#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "backends/backend_client.h"

namespace kiln::runtime {

// A kernel copy on one device: what batch-1 decode competes with, since a
// decode step streams every weight once. It is the roofline `kiln bench`
// rates decode against, measured through the ordinary compile and run path
// (no ABI entry of its own): one `cast` f32 -> f32 dispatch from a weight to
// the arena, run `runs` times after a warm-up.
struct CopyBandwidth {
  int64_t bytes = 0;          // the tensor copied; each run reads and writes it
  int runs = 0;
  double best_seconds = 0;    // the fastest run
  double median_seconds = 0;
  // (read + write bytes) / best_seconds / 1e9.
  double gb_s() const { return best_seconds > 0 ? 2.0 * static_cast<double>(bytes) / best_seconds / 1e9 : 0; }
};

inline constexpr int64_t kDefaultCopyBytes = int64_t{256} << 20;

// Holds `bytes` on the host (the weight) and twice that on the device while
// it runs. `bytes` is rounded down to whole rows of 4096 floats.
absl::StatusOr<CopyBandwidth> measure_copy_bandwidth(const backends::Backend& backend,
                                                     int64_t bytes = kDefaultCopyBytes, int runs = 5);

}  // namespace kiln::runtime
