// Ctrl-C while a scope lives sets a flag instead of ending the process; the
// scope restores the previous handler when it ends.

#include "tools/interrupt.h"

#include <csignal>

#include "gtest/gtest.h"

namespace kiln::cli {
namespace {

bool previous_handler_ran = false;
void previous_handler(int) { previous_handler_ran = true; }

TEST(InterruptScopeTest, SigintSetsTheFlagAndTheScopeRestoresTheHandler) {
  std::signal(SIGINT, previous_handler);
  {
    const InterruptScope scope;
    EXPECT_FALSE(InterruptScope::requested());
    std::raise(SIGINT);  // would end the test binary if the scope did not catch it
    EXPECT_TRUE(InterruptScope::requested());
  }
  std::raise(SIGINT);
  EXPECT_TRUE(previous_handler_ran);
  const InterruptScope fresh;
  EXPECT_FALSE(InterruptScope::requested());
  std::signal(SIGINT, SIG_DFL);
}

}  // namespace
}  // namespace kiln::cli
