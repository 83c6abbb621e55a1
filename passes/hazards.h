#pragma once

#include "program/program.h"

namespace kiln::passes {

// Fills every dispatch's `after` list: the earlier dispatches whose arena
// or state bytes (at the slots' bounds) it reads after they wrote them,
// writes after they read them, or writes after they wrote them — less those
// already ordered through another dispatch of the list (the transitive
// reduction), so a backend's barrier decisions read a short list.
void compute_hazards(program::Program& program);

}  // namespace kiln::passes
