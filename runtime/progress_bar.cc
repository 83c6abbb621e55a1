#include "runtime/progress_bar.h"

#include <unistd.h>

#include <algorithm>

namespace kiln::runtime {
namespace {

constexpr int kWidth = 30;
// Redraws at most this often: a model has thousands of tensors.
constexpr auto kRedrawInterval = std::chrono::milliseconds(50);

}  // namespace

ProgressBar::ProgressBar(std::string label, int64_t total, bool enabled, bool unit_bytes)
    : label_(std::move(label)), total_(std::max<int64_t>(total, 1)), enabled_(enabled), unit_bytes_(unit_bytes) {
  draw(false);
}

ProgressBar::~ProgressBar() { finish(); }

bool ProgressBar::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

void ProgressBar::advance(int64_t amount) {
  done_ = std::min(total_, done_ + amount);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  draw(false);
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  done_ = total_;
  draw(true);
}

void ProgressBar::draw(bool final_line) {
  if (!enabled_) return;
  const int filled = static_cast<int>(kWidth * done_ / total_);
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, ' ');
  const int percent = static_cast<int>(100 * done_ / total_);
  if (unit_bytes_) {
    std::fprintf(stderr, "\r%-8s [%s] %3d%% %8.1f MiB", label_.c_str(), bar.c_str(), percent,
                 static_cast<double>(done_) / (1 << 20));
  } else {
    std::fprintf(stderr, "\r%-8s [%s] %3d%% %lld/%lld", label_.c_str(), bar.c_str(), percent,
                 static_cast<long long>(done_), static_cast<long long>(total_));
  }
  if (final_line) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace kiln::runtime
