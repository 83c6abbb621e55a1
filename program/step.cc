#include "program/step.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::program {

absl::StatusOr<StepValues> evaluate_step(const Program& program, std::span<const int64_t> given) {
  const int32_t count = program.given_slots();
  if (given.size() != static_cast<size_t>(count)) {
    std::vector<std::string> names;
    for (int32_t i = 0; i < count; ++i) names.push_back(program.slots[i].name);
    return absl::InvalidArgumentError(absl::StrCat("expected ", count, " step values (", absl::StrJoin(names, ", "),
                                                   "), got ", given.size()));
  }
  StepValues step(program.slots.size(), 0);
  for (size_t i = 0; i < program.slots.size(); ++i) {
    const StepSlot& slot = program.slots[i];
    int64_t value = 0;
    if (slot.given()) {
      value = given[i];
    } else {
      int64_t sum = 0;
      for (int32_t term : slot.terms) sum += step[term];
      value = slot.scale * sum + slot.bias;
    }
    if (value < 0 || value > slot.bound) {
      return absl::OutOfRangeError(
          absl::StrCat("step value ", slot.name, " = ", value, " is outside [0, ", slot.bound, "]"));
    }
    step[i] = value;
  }
  return step;
}

StepValues bound_step(const Program& program) {
  StepValues step;
  for (const StepSlot& slot : program.slots) step.push_back(slot.bound);
  return step;
}

int64_t extent(const Dim& dim, const StepValues& step) { return dim.is_static() ? dim.value : step[dim.slot]; }

int64_t element_count(const Shape& shape, const StepValues& step) {
  int64_t count = 1;
  for (const Dim& dim : shape) count *= extent(dim, step);
  return count;
}

int64_t byte_size(const TensorRef& ref, const StepValues& step) {
  return dtype_bytes(ref.dtype, element_count(ref.shape, step));
}

std::string shape_string(const Program& program, const Shape& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", ", [&](std::string* out, const Dim& dim) {
                        if (dim.is_static()) {
                          absl::StrAppend(out, dim.value);
                        } else if (dim.slot < static_cast<int32_t>(program.slots.size())) {
                          out->append(program.slots[dim.slot].name);
                        } else {
                          absl::StrAppend(out, "slot ", dim.slot);
                        }
                      }),
                      "]");
}

}  // namespace kiln::program
