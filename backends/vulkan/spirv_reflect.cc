#include "backends/vulkan/spirv_reflect.h"

#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"

namespace kiln::backends::vulkan {
namespace {

constexpr uint32_t kMagic = 0x07230203;
constexpr uint32_t kHeaderWords = 5;
enum Op : uint32_t {
  kOpName = 5,
  kOpTypeBool = 20,
  kOpTypeInt = 21,
  kOpTypeFloat = 22,
  kOpSpecConstantTrue = 48,
  kOpSpecConstantFalse = 49,
  kOpSpecConstant = 50,
  kOpDecorate = 71,
};
constexpr uint32_t kDecorationSpecId = 1;

// The literal string starting at words[0], within |count| words.
std::string literal_string(const uint32_t* words, uint32_t count) {
  const char* bytes = reinterpret_cast<const char*>(words);
  return std::string(bytes, strnlen(bytes, count * sizeof(uint32_t)));
}

}  // namespace

absl::StatusOr<std::vector<SpecConstant>> reflect_spec_constants(std::span<const uint32_t> spirv) {
  if (spirv.size() < kHeaderWords || spirv[0] != kMagic) return absl::InternalError("not SPIR-V");
  std::map<uint32_t, std::string> names;
  std::map<uint32_t, uint32_t> spec_ids;
  std::map<uint32_t, SpecConstant::Type> types;  // type id -> scalar type
  std::map<uint32_t, SpecConstant> constants;    // result id -> constant
  for (size_t at = kHeaderWords; at < spirv.size();) {
    const uint32_t count = spirv[at] >> 16;
    const uint32_t op = spirv[at] & 0xffff;
    if (count == 0 || at + count > spirv.size()) return absl::InternalError("truncated SPIR-V instruction");
    const uint32_t* w = &spirv[at];
    if (op == kOpName && count >= 3) {
      names[w[1]] = literal_string(w + 2, count - 2);
    } else if (op == kOpDecorate && count >= 4 && w[2] == kDecorationSpecId) {
      spec_ids[w[1]] = w[3];
    } else if (op == kOpTypeBool) {
      types[w[1]] = SpecConstant::Type::boolean;
    } else if (op == kOpTypeInt && w[2] == 32) {
      types[w[1]] = w[3] ? SpecConstant::Type::int32 : SpecConstant::Type::uint32;
    } else if (op == kOpTypeFloat && w[2] == 32) {
      types[w[1]] = SpecConstant::Type::float32;
    } else if (op == kOpSpecConstantTrue || op == kOpSpecConstantFalse) {
      constants[w[2]] = {"", 0, SpecConstant::Type::boolean, op == kOpSpecConstantTrue ? 1u : 0u};
    } else if (op == kOpSpecConstant && count == 4) {
      auto type = types.find(w[1]);
      if (type == types.end()) return absl::InternalError(absl::StrCat("spec constant %", w[2], " is not 32-bit"));
      constants[w[2]] = {"", 0, type->second, w[3]};
    }
    at += count;
  }
  // An unnamed constant may share a named one's SpecId: glslang gives
  // local_size_x_id its own constant beside the one the shader names.
  std::map<uint32_t, SpecConstant> by_id;
  std::vector<uint32_t> unnamed;
  for (auto& [result, constant] : constants) {
    auto id = spec_ids.find(result);
    if (id == spec_ids.end()) continue;  // a constant folded from others, not specialisable
    auto name = names.find(result);
    if (name == names.end()) {
      unnamed.push_back(id->second);
      continue;
    }
    constant.name = name->second;
    constant.id = id->second;
    by_id[constant.id] = constant;
  }
  for (uint32_t id : unnamed) {
    if (!by_id.contains(id)) return absl::InternalError(absl::StrCat("spec constant SpecId ", id, " has no name"));
  }
  std::vector<SpecConstant> out;
  for (auto& [id, constant] : by_id) out.push_back(constant);
  return out;
}

}  // namespace kiln::backends::vulkan
