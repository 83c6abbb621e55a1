#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kiln::runtime {

// Watches streamed text for stop strings. push() returns the text that can
// be shown now: text that might be the start of a stop string is held back
// until the next push() settles it, so a stop string is never shown in part.
// Once one appears, the text before it is returned and stopped() is true;
// the stop string and anything after it are dropped.
class StopStrings {
 public:
  explicit StopStrings(std::vector<std::string> stops);

  std::string push(std::string_view text);
  // The held-back text, at the end of generation.
  std::string finish();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace kiln::runtime
