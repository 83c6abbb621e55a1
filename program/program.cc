#include "program/program.h"

namespace kiln::program {
namespace {

template <typename Item>
int32_t find_named(const std::vector<Item>& items, std::string_view name) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].name == name) return static_cast<int32_t>(i);
  }
  return -1;
}

}  // namespace

std::string_view region_name(Region region) {
  switch (region) {
    case Region::arena: return "arena";
    case Region::state: return "state";
    case Region::weight: return "weight";
  }
  return "?";
}

std::string_view constant_type_name(Constant::Type type) {
  switch (type) {
    case Constant::Type::boolean: return "bool";
    case Constant::Type::integer: return "int";
    case Constant::Type::real: return "real";
  }
  return "?";
}

const Constant* Dispatch::find_constant(std::string_view name) const {
  const int32_t at = find_named(constants, name);
  return at < 0 ? nullptr : &constants[at];
}

int32_t Program::given_slots() const {
  int32_t count = 0;
  while (count < static_cast<int32_t>(slots.size()) && slots[count].given()) ++count;
  return count;
}

int32_t Program::find_slot(std::string_view name) const { return find_named(slots, name); }
int32_t Program::find_input(std::string_view name) const { return find_named(inputs, name); }
int32_t Program::find_output(std::string_view name) const { return find_named(outputs, name); }

}  // namespace kiln::program
