#include "program/program_check.h"

#include "absl/strings/str_cat.h"
#include "program/step.h"

namespace kiln::program {
namespace {

absl::Status fail(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Status check_slots(const Program& p) {
  const int32_t given = p.given_slots();
  for (size_t i = 0; i < p.slots.size(); ++i) {
    const StepSlot& slot = p.slots[i];
    const std::string path = absl::StrCat("slots[", i, "]");
    if (slot.name.empty()) return fail(path, "a slot needs a name");
    if (p.find_slot(slot.name) != static_cast<int32_t>(i)) return fail(path, "'" + slot.name + "' is declared twice");
    if (slot.bound < 0) return fail(path, absl::StrCat("bound ", slot.bound, " must be >= 0"));
    if (slot.given()) {
      if (static_cast<int32_t>(i) >= given) return fail(path, "a given slot must come before every derived slot");
      continue;
    }
    for (int32_t term : slot.terms) {
      if (term < 0 || term >= given) return fail(path, absl::StrCat("term ", term, " is not a given slot"));
    }
  }
  return absl::OkStatus();
}

absl::Status check_shape(const Program& p, const Shape& shape, const std::string& path) {
  for (size_t i = 0; i < shape.size(); ++i) {
    const Dim& dim = shape[i];
    if (dim.is_static() && dim.value < 0) return fail(path, absl::StrCat("extent ", dim.value, " is negative"));
    if (!dim.is_static() && dim.slot >= static_cast<int32_t>(p.slots.size())) {
      return fail(path, absl::StrCat("dim ", i, " names slot ", dim.slot, ", which is not declared"));
    }
  }
  return absl::OkStatus();
}

absl::Status check_ref(const Program& p, const TensorRef& ref, const std::string& path) {
  if (absl::Status s = check_shape(p, ref.shape, path + ".shape"); !s.ok()) return s;
  const int64_t bytes = byte_size(ref, bound_step(p));
  if (ref.region == Region::weight) {
    if (ref.weight < 0 || ref.weight >= static_cast<int32_t>(p.weights.size())) {
      return fail(path, absl::StrCat("weight index ", ref.weight, " is not in the weight table (", p.weights.size(),
                                     " entries)"));
    }
    const WeightEntry& weight = p.weights[ref.weight];
    if (ref.offset != 0 || bytes > weight.bytes) {
      return fail(path, absl::StrCat("offset ", ref.offset, " + ", bytes, " bytes ends past weight '", weight.name,
                                     "' (", weight.bytes, " bytes)"));
    }
    return absl::OkStatus();
  }
  if (ref.weight != -1) {
    return fail(path, absl::StrCat("weight index ", ref.weight, " on a ", std::string(region_name(ref.region)),
                                   " reference"));
  }
  if (ref.offset < 0 || ref.offset % p.alignment != 0) {
    return fail(path, absl::StrCat("offset ", ref.offset, " is not a multiple of the alignment ", p.alignment));
  }
  const int64_t size = ref.region == Region::arena ? p.arena_bytes : p.state_bytes;
  if (ref.offset > size || bytes > size - ref.offset) {
    return fail(path, absl::StrCat("offset ", ref.offset, " + ", bytes, " bytes ends past ",
                                   ref.region == Region::arena ? "arena_bytes " : "state_bytes ", size));
  }
  return absl::OkStatus();
}

absl::Status check_bindings(const Program& p, const std::vector<Binding>& bindings, const std::string& path) {
  for (size_t i = 0; i < bindings.size(); ++i) {
    if (absl::Status s = check_ref(p, bindings[i].ref, absl::StrCat(path, "[", i, "]")); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status check_weights(const Program& p) {
  for (size_t i = 0; i < p.weight_chunks.size(); ++i) {
    if (p.weight_chunks[i] < 0) return fail(absl::StrCat("weight_chunks[", i, "]"), "negative size");
  }
  for (size_t i = 0; i < p.weights.size(); ++i) {
    const WeightEntry& w = p.weights[i];
    const std::string path = absl::StrCat("weights[", i, "]");
    int64_t elements = 1;
    for (int64_t dim : w.shape) {
      if (dim < 0) return fail(path + ".shape", "negative extent");
      elements *= dim;
    }
    if (dtype_bytes(w.dtype, elements) != w.bytes) {
      return fail(path + ".bytes", absl::StrCat("expected ", dtype_bytes(w.dtype, elements), " for a ",
                                                std::string(dtype_name(w.dtype)), " tensor of that shape, got ", w.bytes));
    }
    if (w.chunk < 0 || w.chunk >= static_cast<int32_t>(p.weight_chunks.size())) {
      return fail(path + ".chunk", absl::StrCat("chunk ", w.chunk, " is not one of the ", p.weight_chunks.size(),
                                                " weight chunks"));
    }
    const int64_t chunk = p.weight_chunks[w.chunk];
    if (w.offset < 0 || w.offset % p.alignment != 0 || w.offset > chunk || w.bytes > chunk - w.offset) {
      return fail(path + ".offset", absl::StrCat("offset ", w.offset, " + ", w.bytes, " bytes is unaligned or ends past chunk ",
                                                 w.chunk, " (", chunk, " bytes)"));
    }
  }
  return absl::OkStatus();
}

absl::Status check_dispatch(const Program& p, const Dispatch& d, int32_t index, const std::string& path) {
  if (d.kernel.empty()) return fail(path + ".kernel", "empty");
  for (size_t i = 0; i < d.inputs.size(); ++i) {
    if (absl::Status s = check_ref(p, d.inputs[i], absl::StrCat(path, ".inputs[", i, "]")); !s.ok()) return s;
  }
  for (size_t i = 0; i < d.outputs.size(); ++i) {
    if (absl::Status s = check_ref(p, d.outputs[i], absl::StrCat(path, ".outputs[", i, "]")); !s.ok()) return s;
    if (d.outputs[i].region == Region::weight) {
      return fail(absl::StrCat(path, ".outputs[", i, "]"), "a dispatch never writes a weight");
    }
  }
  if (absl::Status s = check_shape(p, d.launch, path + ".launch"); !s.ok()) return s;
  for (const StepParam& param : d.step_params) {
    if (param.slot < 0 || param.slot >= static_cast<int32_t>(p.slots.size())) {
      return fail(path + ".step_params." + param.name, absl::StrCat("slot ", param.slot, " is not declared"));
    }
  }
  int32_t previous = -1;
  for (int32_t earlier : d.after) {
    if (earlier <= previous || earlier >= index) {
      return fail(path + ".after", absl::StrCat("expected ascending indices of earlier dispatches, got ", earlier));
    }
    previous = earlier;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status check_program(const Program& p) {
  if (p.alignment <= 0 || (p.alignment & (p.alignment - 1)) != 0) {
    return fail("alignment", absl::StrCat("expected a power of two, got ", p.alignment));
  }
  if (p.arena_bytes < 0 || p.state_bytes < 0) return fail("arena_bytes", "region sizes must be >= 0");
  if (p.arena_lower_bound_bytes > p.arena_bytes) {
    return fail("arena_lower_bound_bytes",
                absl::StrCat(p.arena_lower_bound_bytes, " exceeds arena_bytes ", p.arena_bytes));
  }
  if (absl::Status s = check_slots(p); !s.ok()) return s;
  if (absl::Status s = check_weights(p); !s.ok()) return s;
  if (absl::Status s = check_bindings(p, p.states, "states"); !s.ok()) return s;
  if (absl::Status s = check_bindings(p, p.inputs, "inputs"); !s.ok()) return s;
  if (absl::Status s = check_bindings(p, p.outputs, "outputs"); !s.ok()) return s;
  for (size_t i = 0; i < p.dispatches.size(); ++i) {
    const int32_t index = static_cast<int32_t>(i);
    if (absl::Status s = check_dispatch(p, p.dispatches[i], index, absl::StrCat("dispatches[", i, "]")); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace kiln::program
