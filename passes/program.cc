#include "passes/program.h"

namespace kiln::passes {

std::string_view region_name(Region region) {
  switch (region) {
    case Region::arena:
      return "arena";
    case Region::state:
      return "state";
    case Region::weight:
      return "weight";
  }
  return "?";
}

}  // namespace kiln::passes
