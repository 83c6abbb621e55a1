#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "program/program.h"

namespace kiln::program {

// The Program's serialised form: what `kiln compile -o` writes and what a
// plugin's compile entry receives. program_from_json(program_to_json(p))
// gives back p; malformed JSON or a missing field is an error naming the
// field path ("dispatches[3].inputs[0].offset: expected an integer").
std::string program_to_json(const Program& program, int indent = 2);
absl::StatusOr<Program> program_from_json(std::string_view json);

}  // namespace kiln::program
