#include "backends/vulkan/specialization.h"

#include <bit>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/support/kernel_table.h"

namespace kiln::backends::vulkan {
namespace {

// A constant's value before it meets the shader's type.
struct Value {
  bool is_real = false;
  int64_t integer = 0;
  double real = 0;
};

Value integer(int64_t v) { return {false, v, 0}; }

bool consume_prefix(std::string_view& text, std::string_view prefix) {
  if (!text.starts_with(prefix)) return false;
  text.remove_prefix(prefix.size());
  return true;
}

bool consume_suffix(std::string_view& text, std::string_view suffix) {
  if (!text.ends_with(suffix)) return false;
  text.remove_suffix(suffix.size());
  return true;
}

// A non-empty run of decimal digits.
bool parse_index(std::string_view text, size_t* out) {
  if (text.empty() || text.size() > 4) return false;
  size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  *out = value;
  return true;
}

// factor * (slot < 0 ? 1 : step[slot]) over |dims|: a product with at most
// one symbolic dim.
struct Extent {
  int64_t factor = 1;
  int32_t slot = -1;
};

absl::StatusOr<Extent> product(const program::Shape& shape, size_t begin, size_t end) {
  Extent extent;
  for (size_t i = begin; i < end; ++i) {
    if (shape[i].is_static()) {
      extent.factor *= shape[i].value;
    } else if (extent.slot >= 0) {
      return absl::UnimplementedError("an extent with two symbolic dims");
    } else {
      extent.slot = shape[i].slot;
    }
  }
  return extent;
}

// Value of "<what>" or "<what>_slot" of operand |ref|; nullopt when |what|
// is not an operand property.
absl::StatusOr<std::optional<Value>> operand_value(const program::TensorRef& ref, std::string_view what) {
  const bool slot = consume_suffix(what, "_slot");
  const size_t rank = ref.shape.size();
  if (!slot && what == "dtype") return Value(integer(static_cast<int64_t>(ref.dtype)));
  if (!slot && what == "rank") return Value(integer(static_cast<int64_t>(rank)));
  absl::StatusOr<Extent> extent = Extent{};
  if (what == "cols") {
    extent = rank == 0 ? Extent{} : product(ref.shape, rank - 1, rank);
    if (extent.ok() && extent->slot >= 0) return absl::UnimplementedError("a symbolic last dim");
  } else if (what == "rows") {
    extent = rank == 0 ? Extent{} : product(ref.shape, 0, rank - 1);
  } else if (what.size() >= 2 && (what[0] == 'd' || what[0] == 'r')) {
    size_t k = 0;
    if (!parse_index(what.substr(1), &k)) return std::optional<Value>();
    const bool from_end = what[0] == 'r';
    if (from_end && k == 0) return std::optional<Value>();
    const size_t dim = from_end ? rank - k : k;
    if ((from_end && k > rank) || (!from_end && k >= rank)) {
      extent = Extent{};
    } else {
      extent = product(ref.shape, dim, dim + 1);
    }
  } else {
    return std::optional<Value>();
  }
  if (!extent.ok()) return extent.status();
  return Value(integer(slot ? extent->slot : extent->factor));
}

// "in3_cols" -> (inputs, 3, "cols"); nullopt for other names.
struct OperandName {
  bool output = false;
  size_t index = 0;
  std::string_view what;
};
std::optional<OperandName> parse_operand_name(std::string_view name) {
  OperandName out;
  if (consume_prefix(name, "out")) {
    out.output = true;
  } else if (!consume_prefix(name, "in")) {
    return std::nullopt;
  }
  const size_t underscore = name.find('_');
  if (underscore == std::string_view::npos || !parse_index(name.substr(0, underscore), &out.index)) {
    return std::nullopt;
  }
  out.what = name.substr(underscore + 1);
  return out;
}

bool has_constant_or_param(const program::Dispatch& dispatch, std::string_view name) {
  if (dispatch.find_constant(name) != nullptr) return true;
  for (const program::StepParam& param : dispatch.step_params) {
    if (param.name == name) return true;
  }
  return false;
}

// "perm3" -> ("perm", 3); nullopt for a name without a trailing index.
std::optional<std::pair<std::string_view, size_t>> split_index(std::string_view name) {
  size_t digits = name.size();
  while (digits > 0 && name[digits - 1] >= '0' && name[digits - 1] <= '9') --digits;
  size_t index = 0;
  if (digits == 0 || !parse_index(name.substr(digits), &index)) return std::nullopt;
  return std::pair(name.substr(0, digits), index);
}

bool declares(const std::vector<SpecConstant>& shader, std::string_view name) {
  for (const SpecConstant& constant : shader) {
    if (constant.name == name) return true;
  }
  return false;
}

// The value constant |name| of |shader| takes; nullopt keeps its default.
absl::StatusOr<std::optional<Value>> lookup(std::string_view name, const std::vector<SpecConstant>& shader,
                                            const program::Program& program, const program::Dispatch& dispatch,
                                            const DeviceConstants& device) {
  if (name.starts_with("wg_")) return std::optional<Value>();
  if (name == "num_inputs") return Value(integer(static_cast<int64_t>(dispatch.inputs.size())));
  if (name == "slot_P") return Value(integer(program.find_slot("P")));
  if (name == "subgroup_size") return Value(integer(device.subgroup_size));
  if (const program::Constant* constant = dispatch.find_constant(name); constant != nullptr) {
    if (constant->type == program::Constant::Type::real) return Value{true, 0, constant->real};
    return Value(integer(constant->integer));
  }
  std::string_view base = name;
  if (consume_suffix(base, "_slot")) {
    for (const program::StepParam& param : dispatch.step_params) {
      if (param.name == base) return Value(integer(param.slot));
    }
    if (dispatch.find_constant(base) != nullptr) return Value(integer(-1));
  }
  // A step parameter read as an extent (EXTENT(name) declares name and
  // name_slot): its factor is 1, the slot holds its whole value.
  for (const program::StepParam& param : dispatch.step_params) {
    if (param.name == name && declares(shader, std::string(name) + "_slot")) return Value(integer(1));
  }
  if (std::optional<OperandName> operand = parse_operand_name(name)) {
    const std::vector<program::TensorRef>& refs = operand->output ? dispatch.outputs : dispatch.inputs;
    if (operand->index >= refs.size()) return std::optional<Value>();  // an absent optional operand
    return operand_value(refs[operand->index], operand->what);
  }
  // An entry past the end of a list the op derives per dim or per operand
  // (transpose's perm<k> past its rank, concat's width<i> past its inputs):
  // the dispatch has entry 0 of the list, so the shader's longer list keeps
  // its defaults there.
  if (std::optional<std::pair<std::string_view, size_t>> entry = split_index(base);
      entry.has_value() && entry->second > 0 && has_constant_or_param(dispatch, std::string(entry->first) + "0")) {
    return std::optional<Value>();
  }
  return absl::NotFoundError("the dispatch has no constant, step parameter or operand property of that name");
}

absl::StatusOr<uint32_t> bits_for(const SpecConstant& constant, const Value& value) {
  switch (constant.type) {
    case SpecConstant::Type::boolean:
      if (value.is_real) return absl::InvalidArgumentError("a real value for a bool constant");
      return value.integer != 0 ? 1u : 0u;
    case SpecConstant::Type::int32:
    case SpecConstant::Type::uint32:
      if (value.is_real) return absl::InvalidArgumentError("a real value for an integer constant");
      if (value.integer < INT32_MIN || value.integer > UINT32_MAX) {
        return absl::OutOfRangeError(absl::StrCat("value ", value.integer, " does not fit 32 bits"));
      }
      return static_cast<uint32_t>(value.integer);
    case SpecConstant::Type::float32:
      return std::bit_cast<uint32_t>(value.is_real ? static_cast<float>(value.real)
                                                   : static_cast<float>(value.integer));
  }
  return absl::InternalError("unknown constant type");
}

}  // namespace

absl::StatusOr<Specialization> specialise(const std::vector<SpecConstant>& shader, const program::Program& program,
                                          size_t index, const DeviceConstants& device) {
  const program::Dispatch& dispatch = program.dispatches[index];
  Specialization out;
  for (const SpecConstant& constant : shader) {
    absl::StatusOr<std::optional<Value>> value = lookup(constant.name, shader, program, dispatch, device);
    absl::StatusOr<uint32_t> bits = constant.default_bits;
    if (value.ok() && value->has_value()) bits = bits_for(constant, **value);
    if (!value.ok()) bits = value.status();
    if (!bits.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(support::dispatch_label(program, index), ": kernel ",
                                                     dispatch.kernel, "_", dispatch.variant,
                                                     ".comp, specialisation constant '", constant.name,
                                                     "': ", bits.status().message()));
    }
    if (constant.name == "wg_size") out.wg_size = *bits;
    out.entries.push_back({constant.id, static_cast<uint32_t>(out.data.size() * sizeof(uint32_t)), sizeof(uint32_t)});
    out.data.push_back(*bits);
  }
  return out;
}

}  // namespace kiln::backends::vulkan
