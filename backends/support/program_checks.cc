#include "backends/support/program_checks.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "program/program_json.h"

namespace kiln::backends::support {
namespace {

bool same_weight(const program::WeightEntry& a, const program::WeightEntry& b) {
  return a.name == b.name && a.dtype == b.dtype && a.shape == b.shape && a.bytes == b.bytes && a.chunk == b.chunk &&
         a.offset == b.offset;
}

bool same_state(const program::Binding& a, const program::Binding& b) {
  return a.name == b.name && a.ref.offset == b.ref.offset && a.ref.dtype == b.ref.dtype &&
         a.ref.shape == b.ref.shape;
}

// "[120, 136)"; the end is written as a sum where it would not fit 64 bits.
std::string byte_range(uint64_t offset, uint64_t bytes) {
  if (bytes > UINT64_MAX - offset) return absl::StrCat("[", offset, ", ", offset, " + ", bytes, ")");
  return absl::StrCat("[", offset, ", ", offset + bytes, ")");
}

template <typename Io>
absl::Status check_io(const program::Program& program, const std::vector<program::Binding>& bindings,
                      const program::StepValues& step, const Io* items, uint32_t count, std::string_view what) {
  if (count > 0 && items == nullptr) return absl::InvalidArgumentError(absl::StrCat(std::string(what), "s is null"));
  for (uint32_t i = 0; i < count; ++i) {
    const Io& io = items[i];
    if (io.binding >= bindings.size()) {
      return absl::OutOfRangeError(absl::StrCat(std::string(what), " ", i, ": binding ", io.binding,
                                                " is not one of the Program's ", bindings.size(), " ",
                                                std::string(what), "s"));
    }
    const program::Binding& binding = bindings[io.binding];
    const auto size = static_cast<uint64_t>(program::byte_size(binding.ref, step));
    if (io.offset > size || io.bytes > size - io.offset) {
      return absl::OutOfRangeError(absl::StrCat(std::string(what), " '", binding.name, "': bytes ",
                                                byte_range(io.offset, io.bytes), " are outside its ", size,
                                                " bytes at this step (",
                                                program::shape_string(program, binding.ref.shape), ")"));
    }
    if (io.data == nullptr && io.bytes > 0) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(what), " '", binding.name, "': data is null"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<program::Program> read_program(const char* json, size_t length) {
  if (json == nullptr && length > 0) return absl::InvalidArgumentError("program_json is null");
  absl::StatusOr<program::Program> program = program::program_from_json(std::string_view(json, length));
  if (!program.ok()) return absl::InvalidArgumentError(absl::StrCat("Program: ", program.status().message()));
  return program;
}

absl::Status check_same_weights(const program::Program& made_for, const program::Program& program) {
  const bool same = made_for.weight_chunks == program.weight_chunks &&
                    std::equal(made_for.weights.begin(), made_for.weights.end(), program.weights.begin(),
                               program.weights.end(), same_weight);
  if (same) return absl::OkStatus();
  return absl::InvalidArgumentError("these weights were made for a Program whose weight table differs from this one's");
}

absl::Status check_same_state(const program::Program& made_for, const program::Program& program) {
  const bool same = made_for.state_bytes == program.state_bytes &&
                    std::equal(made_for.states.begin(), made_for.states.end(), program.states.begin(),
                               program.states.end(), same_state);
  if (same) return absl::OkStatus();
  return absl::InvalidArgumentError("this state was made for a Program whose state table differs from this one's");
}

absl::Status check_import(const program::Program& program, uint32_t index, const void* data, uint64_t bytes) {
  if (index >= program.weights.size()) {
    return absl::OutOfRangeError(
        absl::StrCat("weight index ", index, " is outside the weight table (", program.weights.size(), " entries)"));
  }
  const program::WeightEntry& entry = program.weights[index];
  if (bytes != static_cast<uint64_t>(entry.bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("weight ", index, " ('", entry.name, "', ",
                                                   std::string(program::dtype_name(entry.dtype)), "): expected ", entry.bytes,
                                                   " bytes, got ", bytes));
  }
  if (data == nullptr && bytes > 0) {
    return absl::InvalidArgumentError(absl::StrCat("weight ", index, " ('", entry.name, "'): data is null"));
  }
  return absl::OkStatus();
}

absl::StatusOr<program::StepValues> check_step(const program::Program& program, const kiln_step* step) {
  if (step == nullptr) return absl::InvalidArgumentError("step is null");
  if (step->struct_size < sizeof(kiln_step)) {
    return absl::InvalidArgumentError(
        absl::StrCat("kiln_step has ", step->struct_size, " bytes; this plugin reads ", sizeof(kiln_step)));
  }
  if (step->value_count > 0 && step->values == nullptr) return absl::InvalidArgumentError("step values are null");
  absl::StatusOr<program::StepValues> values =
      program::evaluate_step(program, std::span<const int64_t>(step->values, step->value_count));
  if (!values.ok()) return values.status();
  if (absl::Status s = check_io(program, program.inputs, *values, step->inputs, step->input_count, "input"); !s.ok()) {
    return s;
  }
  if (absl::Status s = check_io(program, program.outputs, *values, step->outputs, step->output_count, "output");
      !s.ok()) {
    return s;
  }
  return values;
}

absl::Status check_state_range(const program::Program& program, uint64_t offset, uint64_t bytes) {
  const auto size = static_cast<uint64_t>(program.state_bytes);
  if (offset > size || bytes > size - offset) {
    return absl::OutOfRangeError(
        absl::StrCat("read of bytes ", byte_range(offset, bytes), " is outside the state (", size, " bytes)"));
  }
  return absl::OkStatus();
}

}  // namespace kiln::backends::support
