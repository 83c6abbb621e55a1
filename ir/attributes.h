#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "ir/shape.h"

namespace kiln::ir {

// Typed op attributes. The op registry declares each attribute's type and
// default; the parser coerces literals to the declared type, so a node's
// attributes always hold the schema's alternative.
enum class AttrType : uint8_t { boolean, integer, real, string, ints, shape };

using AttrValue = std::variant<bool, int64_t, double, std::string, std::vector<int64_t>, Shape>;

// Ordered by name so printing is stable.
using Attributes = std::map<std::string, AttrValue>;

const char* attr_type_name(AttrType type);
AttrType attr_type_of(const AttrValue& value);

// Text form used by the printer and parser: true, 3, 1e-05, "tanh", [0, 2, 1],
// [T, 32, 128]. Reals always carry a '.', 'e' or are inf/nan, so they re-parse
// as reals; the printed digits round-trip exactly.
std::string attr_to_string(const AttrValue& value);

}  // namespace kiln::ir
