#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::backends::vulkan {

// A specialisation constant a shader declares: its OpName, SpecId, scalar
// type and default (the 32-bit pattern of the literal in the SPIR-V).
struct SpecConstant {
  enum class Type : uint8_t { boolean, int32, uint32, float32 };
  std::string name;
  uint32_t id = 0;
  Type type = Type::int32;
  uint32_t default_bits = 0;
};

// Every specialisation constant of |spirv|, read from its OpName, SpecId
// and OpSpecConstant* instructions, so constants map to shaders by name
// with no hand-kept list. Fails on malformed SPIR-V, on a spec constant
// without a name, and on one that is not a 32-bit scalar or a bool.
absl::StatusOr<std::vector<SpecConstant>> reflect_spec_constants(std::span<const uint32_t> spirv);

}  // namespace kiln::backends::vulkan
