#pragma once

#include "absl/status/status.h"
#include "passes/program.h"

namespace kiln::passes {

// Checks what a backend relies on before it touches memory: the alignment is
// a power of two; every arena and state reference is aligned and, at the
// symbols' upper bounds, ends inside its region; every weight reference
// names a weight of the table and fits in it; every symbol in a shape or
// uniform list is declared; weight shapes are static and their byte counts
// match. Errors name the field path ("dispatches[3].inputs[0]: offset 4096 +
// 1024 bytes ends past arena_bytes 4608").
absl::Status check_program(const Program& program);

}  // namespace kiln::passes
