#include "passes/program_check.h"

#include "absl/strings/str_cat.h"

namespace kiln::passes {
namespace {

absl::Status fail(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Status check_symbols(const Program& p, const ir::Shape& shape, const std::string& path) {
  for (const ir::Dim& dim : shape) {
    if (!dim.is_static() && !p.symbols.contains(dim.name())) {
      return fail(path, absl::StrCat("symbol '", dim.name(), "' is not declared in symbols"));
    }
  }
  return absl::OkStatus();
}

absl::Status check_ref(const Program& p, const TensorRef& ref, const std::string& path) {
  if (absl::Status s = check_symbols(p, ref.shape, path + ".shape"); !s.ok()) return s;
  absl::StatusOr<int64_t> bytes = ir::byte_size({ref.dtype, ref.shape}, p.symbols);
  if (!bytes.ok()) return fail(path, std::string(bytes.status().message()));
  if (ref.region == Region::weight) {
    if (ref.weight < 0 || ref.weight >= static_cast<int64_t>(p.weights.size())) {
      return fail(path, absl::StrCat("weight index ", ref.weight, " is not in the weight table (", p.weights.size(),
                                     " entries)"));
    }
    if (ref.offset != 0 || *bytes > p.weights[ref.weight].bytes) {
      return fail(path, absl::StrCat("offset ", ref.offset, " + ", *bytes, " bytes ends past weight '",
                                     p.weights[ref.weight].name, "' (", p.weights[ref.weight].bytes, " bytes)"));
    }
    return absl::OkStatus();
  }
  if (ref.weight != -1)
    return fail(
        path, absl::StrCat("weight index ", ref.weight, " on a ", std::string(region_name(ref.region)), " reference"));
  if (ref.offset % p.alignment != 0) {
    return fail(path, absl::StrCat("offset ", ref.offset, " is not a multiple of the alignment ", p.alignment));
  }
  const int64_t size = ref.region == Region::arena ? p.arena_bytes : p.state_bytes;
  if (ref.offset > size || *bytes > size - ref.offset) {
    return fail(path, absl::StrCat("offset ", ref.offset, " + ", *bytes, " bytes ends past ",
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
  for (size_t i = 0; i < p.weights.size(); ++i) {
    const WeightEntry& w = p.weights[i];
    const std::string path = absl::StrCat("weights[", i, "]");
    absl::StatusOr<int64_t> bytes = ir::byte_size({w.dtype, w.shape}, {});
    if (!bytes.ok()) return fail(path + ".shape", "a weight's shape must be static");
    if (*bytes != w.bytes) {
      return fail(path + ".bytes", absl::StrCat("expected ", *bytes, " for ",
                                                ir::TensorType{w.dtype, w.shape}.to_string(), ", got ", w.bytes));
    }
  }
  return absl::OkStatus();
}

absl::Status check_dispatch(const Program& p, const Dispatch& d, const std::string& path) {
  for (size_t i = 0; i < d.inputs.size(); ++i) {
    if (absl::Status s = check_ref(p, d.inputs[i], absl::StrCat(path, ".inputs[", i, "]")); !s.ok()) return s;
  }
  for (size_t i = 0; i < d.outputs.size(); ++i) {
    if (absl::Status s = check_ref(p, d.outputs[i], absl::StrCat(path, ".outputs[", i, "]")); !s.ok()) return s;
  }
  if (absl::Status s = check_symbols(p, d.work_size, path + ".work_size"); !s.ok()) return s;
  for (size_t i = 0; i < d.uniforms.size(); ++i) {
    if (!p.symbols.contains(d.uniforms[i])) {
      return fail(absl::StrCat(path, ".uniforms[", i, "]"),
                  absl::StrCat("symbol '", d.uniforms[i], "' is not declared in symbols"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status check_program(const Program& p) {
  if (p.alignment <= 0 || (p.alignment & (p.alignment - 1)) != 0) {
    return fail("alignment", absl::StrCat("expected a power of two, got ", p.alignment));
  }
  if (p.arena_lower_bound_bytes > p.arena_bytes) {
    return fail("arena_lower_bound_bytes",
                absl::StrCat(p.arena_lower_bound_bytes, " exceeds arena_bytes ", p.arena_bytes));
  }
  if (absl::Status s = check_weights(p); !s.ok()) return s;
  if (absl::Status s = check_bindings(p, p.states, "states"); !s.ok()) return s;
  if (absl::Status s = check_bindings(p, p.inputs, "inputs"); !s.ok()) return s;
  if (absl::Status s = check_bindings(p, p.outputs, "outputs"); !s.ok()) return s;
  for (size_t i = 0; i < p.dispatches.size(); ++i) {
    if (absl::Status s = check_dispatch(p, p.dispatches[i], absl::StrCat("dispatches[", i, "]")); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace kiln::passes
