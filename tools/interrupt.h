#pragma once

namespace kiln::cli {

// Ctrl-C during a long computation (generation, perplexity): while an
// InterruptScope lives, the first SIGINT only sets a flag that the
// computation polls, so it can stop cleanly and still report what it did;
// a second SIGINT kills the process as usual. One scope at a time, on the
// main thread.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // Whether SIGINT arrived since the scope began.
  static bool requested();
};

}  // namespace kiln::cli
