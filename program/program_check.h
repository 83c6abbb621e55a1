#pragma once

#include "absl/status/status.h"
#include "program/program.h"

namespace kiln::program {

// Checks what a backend relies on before it touches memory: the alignment is
// a power of two; slots are well formed (given ones first, derived ones sum
// earlier given slots); every arena and state reference is aligned and, at
// the slots' bounds, ends inside its region; every weight reference names a
// weight of the table, whose bytes match its shape and lie inside its
// chunk; every slot a shape, a step parameter or a launch domain names
// exists; hazards name earlier dispatches. Errors name the field path
// ("dispatches[3].inputs[0]: offset 4096 + 1024 bytes ends past arena_bytes
// 4608").
absl::Status check_program(const Program& program);

}  // namespace kiln::program
