#include "runtime/profile.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace kiln::runtime {

void add_profile(const program::Program& program, std::span<const kiln_profile_entry> entries,
                 std::vector<KernelTime>& totals) {
  for (const kiln_profile_entry& entry : entries) {
    if (entry.dispatch >= program.dispatches.size()) continue;
    const program::Dispatch& d = program.dispatches[entry.dispatch];
    auto it = std::find_if(totals.begin(), totals.end(), [&](const KernelTime& t) {
      return t.kernel == d.kernel && t.variant == d.variant;
    });
    if (it == totals.end()) it = totals.insert(totals.end(), KernelTime{d.kernel, d.variant, 0, 0});
    it->dispatches += entry.runs;
    it->nanoseconds += entry.nanoseconds;
  }
}

std::string profile_table(std::vector<KernelTime> totals) {
  std::sort(totals.begin(), totals.end(),
            [](const KernelTime& a, const KernelTime& b) { return a.nanoseconds > b.nanoseconds; });
  uint64_t all = 0;
  for (const KernelTime& t : totals) all += t.nanoseconds;
  std::string out = absl::StrFormat("%-22s %-16s %10s %7s %11s %10s\n", "kernel", "variant", "total ms", "share",
                                    "dispatches", "mean us");
  for (const KernelTime& t : totals) {
    const double ms = static_cast<double>(t.nanoseconds) / 1e6;
    const double share = all == 0 ? 0.0 : 100.0 * static_cast<double>(t.nanoseconds) / static_cast<double>(all);
    const double mean_us = t.dispatches == 0 ? 0.0 : static_cast<double>(t.nanoseconds) / 1e3 / t.dispatches;
    absl::StrAppendFormat(&out, "%-22s %-16s %10.3f %6.1f%% %11d %10.2f\n", t.kernel, t.variant, ms, share,
                          t.dispatches, mean_us);
  }
  absl::StrAppendFormat(&out, "%-22s %-16s %10.3f\n", "total", "", static_cast<double>(all) / 1e6);
  return out;
}

}  // namespace kiln::runtime
