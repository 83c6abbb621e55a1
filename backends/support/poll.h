#pragma once

#include <chrono>

namespace kiln::backends::support {

// How long a GPU plugin polls a step's completion before it blocks in the
// API's wait: NVIDIA's blocking waits (vkWaitForFences, clFinish) return
// about 90 us after the GPU is done, 6 % of a Llama-3.2-1B decode token on
// the H100. Longer steps (prefill) fall back to the blocking wait and pay
// that once. A CPU device never polls: its work needs the cores.
inline constexpr std::chrono::milliseconds kStepPollTime{20};

// Calls `done` until it returns true or kStepPollTime has passed; returns
// whether it did.
template <typename Done>
bool poll_step(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kStepPollTime;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
  return true;
}

}  // namespace kiln::backends::support
