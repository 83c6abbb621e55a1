#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "program/program.h"

namespace kiln::program {

// Every slot's value for one step: the given ones as the caller passed them,
// the derived ones computed. Indexed like Program::slots.
using StepValues = std::vector<int64_t>;

// Checks `given` (one value per given slot, in order, each in [0, bound])
// and computes the derived slots, each of which must land in [0, bound].
// Errors name the slot: "step value P = 600 is outside [0, 512]".
absl::StatusOr<StepValues> evaluate_step(const Program& program, std::span<const int64_t> given);

// The step at every given slot's bound: what the arena is planned for.
StepValues bound_step(const Program& program);

int64_t extent(const Dim& dim, const StepValues& step);
int64_t element_count(const Shape& shape, const StepValues& step);
// Bytes of `ref` at `step`.
int64_t byte_size(const TensorRef& ref, const StepValues& step);

// "[T, 4, 64]" with slot names, for messages.
std::string shape_string(const Program& program, const Shape& shape);

}  // namespace kiln::program
