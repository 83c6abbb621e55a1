#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace kiln::runtime {

// A one-line progress bar on stderr, redrawn in place ("upload [#####   ]
// 62%  41.0 MiB"). It draws only when enabled, which callers set from
// isatty(stderr) so that logs and pipes never see carriage returns.
class ProgressBar {
 public:
  // `unit_bytes`: amounts are bytes and print as MiB; otherwise as counts.
  ProgressBar(std::string label, int64_t total, bool enabled, bool unit_bytes = false);
  ~ProgressBar();

  void advance(int64_t amount);
  // Draws the bar full and ends its line; called by the destructor if not
  // before.
  void finish();

  // Whether stderr is a terminal.
  static bool stderr_is_terminal();

 private:
  void draw(bool final_line);

  std::string label_;
  int64_t total_ = 0;
  int64_t done_ = 0;
  bool enabled_ = false;
  bool unit_bytes_ = false;
  bool finished_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace kiln::runtime
