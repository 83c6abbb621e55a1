#include "backends/cpu/compile.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ir/op_registry.h"
#include "kernels/cpu/kernel.h"
#include "passes/program_json.h"

namespace kiln::backends::cpu {
namespace {

// Cache lines, at least: the Program's alignment is relative to each
// region's start, and a 64-byte base keeps vector loads aligned too.
constexpr int64_t kMinAlignment = 64;

std::string dispatch_label(const passes::Program& program, size_t index) {
  const passes::Dispatch& d = program.dispatches[index];
  return absl::StrCat("dispatches[", index, "] (%", d.node, " = ", d.kernel, ")");
}

// Fills the schema's defaults and checks each declared constant's type, so
// kernels read constants without checks. An int where a real is declared
// is taken as that real; constants the schema does not declare are ignored.
absl::Status complete_constants(passes::Program& program, size_t index) {
  passes::Dispatch& dispatch = program.dispatches[index];
  const ir::OpDef* def = ir::find_op(dispatch.kernel);
  if (def == nullptr) return absl::OkStatus();
  for (const ir::AttrSpec& spec : def->attrs) {
    auto it = dispatch.constants.find(spec.name);
    if (it == dispatch.constants.end()) {
      if (!spec.default_value) {
        return absl::InvalidArgumentError(
            absl::StrCat(dispatch_label(program, index), ": missing constant '", spec.name, "'"));
      }
      dispatch.constants.emplace(spec.name, *spec.default_value);
      continue;
    }
    if (spec.type == ir::AttrType::real && std::holds_alternative<int64_t>(it->second)) {
      it->second = static_cast<double>(std::get<int64_t>(it->second));
    }
    if (ir::attr_type_of(it->second) != spec.type) {
      return absl::InvalidArgumentError(absl::StrCat(dispatch_label(program, index), ": constant '", spec.name,
                                                     "' must be a ", ir::attr_type_name(spec.type)));
    }
  }
  return absl::OkStatus();
}

absl::Status check_shareable(const passes::Program& program, const Executable& other) {
  const passes::Program& theirs = other.program();
  const bool same_weights = std::equal(
      program.weights.begin(), program.weights.end(), theirs.weights.begin(), theirs.weights.end(),
      [](const passes::WeightEntry& a, const passes::WeightEntry& b) {
        return a.name == b.name && a.dtype == b.dtype && a.shape == b.shape && a.bytes == b.bytes;
      });
  if (!same_weights) return absl::InvalidArgumentError("share_with: its weight table differs from this Program's");
  const bool same_states = std::equal(
      program.states.begin(), program.states.end(), theirs.states.begin(), theirs.states.end(),
      [](const passes::Binding& a, const passes::Binding& b) {
        return a.name == b.name && a.ref.offset == b.ref.offset && a.ref.dtype == b.ref.dtype &&
               a.ref.shape == b.ref.shape;
      });
  if (!same_states || program.state_bytes != theirs.state_bytes) {
    return absl::InvalidArgumentError("share_with: its state table differs from this Program's");
  }
  return absl::OkStatus();
}

absl::Status allocate(ExecutableParts& parts, const Executable* share_with) {
  const passes::Program& program = parts.program;
  const int64_t alignment = std::max(kMinAlignment, program.alignment);
  absl::StatusOr<HostBuffer> arena = HostBuffer::allocate("arena", program.arena_bytes, alignment);
  if (!arena.ok()) return arena.status();
  parts.arena = *std::move(arena);
  parts.allocations += program.arena_bytes > 0;
  if (share_with != nullptr) {
    parts.state = share_with->state();
    parts.weights = share_with->weights();
    return absl::OkStatus();
  }
  absl::StatusOr<HostBuffer> state = HostBuffer::allocate("state region", program.state_bytes, alignment);
  if (!state.ok()) return state.status();
  parts.state = std::make_shared<HostBuffer>(*std::move(state));
  parts.allocations += program.state_bytes > 0;
  parts.weights = std::make_shared<WeightBuffers>();
  for (const passes::WeightEntry& entry : program.weights) {
    absl::StatusOr<HostBuffer> buffer = HostBuffer::allocate(entry.name.c_str(), entry.bytes, alignment);
    if (!buffer.ok()) return buffer.status();
    parts.weights->buffers.push_back(*std::move(buffer));
    parts.weights->uploaded.push_back(false);
    parts.allocations += entry.bytes > 0;
  }
  return absl::OkStatus();
}

// A view of `ref` in this executable's memory; its symbolic dims are set
// at each run.
kernels::cpu::TensorView view_of(const passes::TensorRef& ref, const ExecutableParts& parts) {
  uint8_t* base = nullptr;
  switch (ref.region) {
    case passes::Region::arena: base = parts.arena.data(); break;
    case passes::Region::state: base = parts.state->data(); break;
    case passes::Region::weight: base = parts.weights->buffers[ref.weight].data(); break;
  }
  kernels::cpu::TensorView view{base == nullptr ? nullptr : base + ref.offset, ref.dtype, {}};
  for (const ir::Dim& dim : ref.shape) view.shape.push_back(dim.is_static() ? dim.value() : 0);
  return view;
}

absl::StatusOr<std::vector<kernels::cpu::KernelFn>> resolve_kernels(const passes::Program& program) {
  std::vector<kernels::cpu::KernelFn> kernels;
  for (size_t i = 0; i < program.dispatches.size(); ++i) {
    const kernels::cpu::KernelEntry* entry = kernels::cpu::find_kernel(program.dispatches[i].kernel);
    if (entry == nullptr) {
      return absl::UnimplementedError(absl::StrCat(dispatch_label(program, i), ": the cpu backend has no kernel '",
                                                   program.dispatches[i].kernel, "'"));
    }
    kernels.push_back(entry->run);
  }
  return kernels;
}

void bind_dispatches(ExecutableParts& parts, const std::vector<kernels::cpu::KernelFn>& kernels) {
  for (size_t i = 0; i < parts.program.dispatches.size(); ++i) {
    const passes::Dispatch& dispatch = parts.program.dispatches[i];
    BoundDispatch bound{i, kernels[i], {}, {}};
    for (const passes::TensorRef& ref : dispatch.inputs) bound.inputs.push_back(view_of(ref, parts));
    for (const passes::TensorRef& ref : dispatch.outputs) bound.outputs.push_back(view_of(ref, parts));
    parts.dispatches.push_back(std::move(bound));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Executable>> compile(std::string_view program_json, const Executable* share_with) {
  absl::StatusOr<passes::Program> program = passes::program_from_json(program_json);
  if (!program.ok()) return program.status();
  ExecutableParts parts;
  parts.program = *std::move(program);
  for (size_t i = 0; i < parts.program.dispatches.size(); ++i) {
    if (absl::Status s = complete_constants(parts.program, i); !s.ok()) return s;
  }
  absl::StatusOr<std::vector<kernels::cpu::KernelFn>> kernels = resolve_kernels(parts.program);
  if (!kernels.ok()) return kernels.status();
  if (share_with != nullptr) {
    if (absl::Status s = check_shareable(parts.program, *share_with); !s.ok()) return s;
  }
  if (absl::Status s = allocate(parts, share_with); !s.ok()) return s;
  bind_dispatches(parts, *kernels);
  return std::make_unique<Executable>(std::move(parts));
}

}  // namespace kiln::backends::cpu
