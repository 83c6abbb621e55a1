#include "tools/interrupt.h"

#include <csignal>

namespace kiln::cli {
namespace {

volatile std::sig_atomic_t interrupted = 0;

// SA_RESETHAND restores the default action as this runs, so a second
// Ctrl-C ends the process.
void on_sigint(int) { interrupted = 1; }

struct sigaction previous;

}  // namespace

InterruptScope::InterruptScope() {
  interrupted = 0;
  struct sigaction action = {};
  action.sa_handler = on_sigint;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous);
}

InterruptScope::~InterruptScope() { sigaction(SIGINT, &previous, nullptr); }

bool InterruptScope::requested() { return interrupted != 0; }

}  // namespace kiln::cli
