#pragma once

#include <cstddef>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "program/program.h"
#include "program/step.h"

namespace kiln::backends::support {

// What every plugin checks of the host's calls, written once.

// Parses and checks a Program handed to compile.
absl::StatusOr<program::Program> read_program(const char* json, size_t length);

// Weights and state made for one Program bind to another only when its
// weight (state) table is the same: names, dtypes, shapes, chunks, offsets
// (state offsets and sizes).
absl::Status check_same_weights(const program::Program& made_for, const program::Program& program);
absl::Status check_same_state(const program::Program& made_for, const program::Program& program);

// import_weight's arguments: the index is in the table, |bytes| is the
// weight's size, |data| is not null unless the size is 0.
absl::Status check_import(const program::Program& program, uint32_t index, const void* data, uint64_t bytes);

// run's step: its struct_size, the given slots' values (evaluated into
// every slot's value), and each input and output's binding and byte range,
// which must lie inside the binding's size at this step.
absl::StatusOr<program::StepValues> check_step(const program::Program& program, const kiln_step* step);

// read_state's range: inside the state region.
absl::Status check_state_range(const program::Program& program, uint64_t offset, uint64_t bytes);

}  // namespace kiln::backends::support
