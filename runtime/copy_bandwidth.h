#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "backends/backend_client.h"

namespace kiln::runtime {

// A kernel copy on one device: what batch-1 decode competes with, since a
// decode step streams every weight once. It is the roofline `kiln bench`
// rates decode against, measured through the ordinary compile and run path
// (no ABI entry of its own): a chain of `copies` `cast` f32 -> f32
// dispatches (weight -> arena, then arena -> arena), one step run `runs`
// times after a warm-up. Only one row of the last copy is read back, so a
// run times the copies, not a transfer to the host; the chain makes the
// step's one submit and wait a few percent of it.
struct CopyBandwidth {
  int64_t bytes = 0;          // the tensor copied; each copy reads and writes it
  int copies = 1;             // copies per run
  int runs = 0;
  double best_seconds = 0;    // the fastest run
  double median_seconds = 0;
  // (read + write bytes of every copy) / best_seconds / 1e9.
  double gb_s() const {
    return best_seconds > 0 ? 2.0 * static_cast<double>(bytes) * copies / best_seconds / 1e9 : 0;
  }
};

inline constexpr int64_t kDefaultCopyBytes = int64_t{256} << 20;
inline constexpr int kCopiesPerRun = 8;

// Holds `bytes` on the host (the weight) and three times that on the device
// while it runs (the weight, two arena copies in turn). `bytes` is rounded
// down to whole rows of 4096 floats.
absl::StatusOr<CopyBandwidth> measure_copy_bandwidth(const backends::Backend& backend,
                                                     int64_t bytes = kDefaultCopyBytes, int runs = 5);

}  // namespace kiln::runtime
