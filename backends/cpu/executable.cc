#include "backends/cpu/executable.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::backends::cpu {
namespace {

std::string symbol_list(const ir::SymbolValues& symbols) {
  return absl::StrJoin(symbols, ", ", [](std::string* out, const auto& entry) { out->append(entry.first); });
}

// "[120, 136)"; the end is written as a sum where it would not fit 64 bits.
std::string byte_range(uint64_t offset, uint64_t bytes) {
  if (bytes > UINT64_MAX - offset) return absl::StrCat("[", offset, ", ", offset, " + ", bytes, ")");
  return absl::StrCat("[", offset, ", ", offset + bytes, ")");
}

}  // namespace

Executable::Executable(ExecutableParts parts)
    : program_(std::move(parts.program)),
      dispatches_(std::move(parts.dispatches)),
      arena_(std::move(parts.arena)),
      state_(std::move(parts.state)),
      weights_(std::move(parts.weights)),
      step_(program_.symbols) {
  counters_.struct_size = sizeof counters_;
  counters_.allocations = parts.allocations;
}

absl::Status Executable::upload_weight(uint32_t index, const void* data, uint64_t bytes) {
  if (index >= program_.weights.size()) {
    return absl::OutOfRangeError(
        absl::StrCat("weight index ", index, " is outside the weight table (", program_.weights.size(), " entries)"));
  }
  const passes::WeightEntry& entry = program_.weights[index];
  if (bytes != static_cast<uint64_t>(entry.bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("weight ", index, " ('", entry.name, "', ",
                                                   ir::TensorType{entry.dtype, entry.shape}.to_string(),
                                                   "): expected ", entry.bytes, " bytes, got ", bytes));
  }
  if (data == nullptr && bytes > 0) {
    return absl::InvalidArgumentError(absl::StrCat("weight ", index, " ('", entry.name, "'): data is null"));
  }
  if (bytes > 0) std::memcpy(weights_->buffers[index].data(), data, bytes);
  weights_->uploaded[index] = true;
  counters_.bytes_uploaded += bytes;
  return absl::OkStatus();
}

absl::StatusOr<HostBuffer*> Executable::region(int32_t region, const char* verb, uint64_t offset, uint64_t bytes) {
  HostBuffer* buffer = nullptr;
  const char* name = nullptr;
  if (region == KILN_REGION_ARENA) {
    buffer = &arena_;
    name = "arena";
  } else if (region == KILN_REGION_STATE) {
    buffer = state_.get();
    name = "state region";
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        verb, ": unknown region ", region, "; expected KILN_REGION_ARENA (0) or KILN_REGION_STATE (1)"));
  }
  const auto size = static_cast<uint64_t>(buffer->size());
  if (offset > size || bytes > size - offset) {
    return absl::OutOfRangeError(absl::StrCat(verb, " of bytes ", byte_range(offset, bytes), " is outside the ", name,
                                              " (", size, " bytes)"));
  }
  return buffer;
}

absl::Status Executable::write(int32_t region_id, uint64_t offset, const void* data, uint64_t bytes) {
  absl::StatusOr<HostBuffer*> buffer = region(region_id, "write", offset, bytes);
  if (!buffer.ok()) return buffer.status();
  if (bytes > 0) std::memcpy((*buffer)->data() + offset, data, bytes);
  counters_.bytes_uploaded += bytes;
  return absl::OkStatus();
}

absl::Status Executable::read(int32_t region_id, uint64_t offset, void* out_data, uint64_t bytes) {
  absl::StatusOr<HostBuffer*> buffer = region(region_id, "read", offset, bytes);
  if (!buffer.ok()) return buffer.status();
  if (bytes > 0) std::memcpy(out_data, (*buffer)->data() + offset, bytes);
  ++counters_.readbacks;
  counters_.bytes_read += bytes;
  return absl::OkStatus();
}

absl::Status Executable::set_step(std::span<const kiln_uniform> uniforms) {
  for (size_t i = 0; i < uniforms.size(); ++i) {
    const kiln_uniform& uniform = uniforms[i];
    if (uniform.name == nullptr) return absl::InvalidArgumentError(absl::StrCat("uniform ", i, " has no name"));
    auto bound = program_.symbols.find(uniform.name);
    if (bound == program_.symbols.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown step symbol '", uniform.name,
                                                     "'; this Program's symbols are: ", symbol_list(program_.symbols)));
    }
    if (uniform.value < 0 || uniform.value > bound->second) {
      return absl::OutOfRangeError(absl::StrCat("step symbol '", uniform.name, "' = ", uniform.value,
                                                " is outside [0, ", bound->second, "]"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (std::strcmp(uniforms[j].name, uniform.name) == 0) {
        return absl::InvalidArgumentError(absl::StrCat("step symbol '", uniform.name, "' is given twice"));
      }
    }
    step_[bound->first] = uniform.value;
  }
  for (const auto& [symbol, bound] : program_.symbols) {
    bool given = false;
    for (const kiln_uniform& uniform : uniforms) given = given || symbol == uniform.name;
    if (!given) {
      return absl::InvalidArgumentError(absl::StrCat("step symbol '", symbol, "' is not given; every run sets ",
                                                     symbol_list(program_.symbols)));
    }
  }
  return absl::OkStatus();
}

absl::Status Executable::check_weights_uploaded() const {
  for (size_t i = 0; i < program_.weights.size(); ++i) {
    if (!weights_->uploaded[i]) {
      return absl::FailedPreconditionError(
          absl::StrCat("weight ", i, " ('", program_.weights[i].name, "') has not been uploaded"));
    }
  }
  return absl::OkStatus();
}

void Executable::evaluate_shapes(BoundDispatch& bound) const {
  const passes::Dispatch& dispatch = program_.dispatches[bound.index];
  auto evaluate = [&](const std::vector<passes::TensorRef>& refs, std::vector<kernels::cpu::TensorView>& views) {
    for (size_t i = 0; i < refs.size(); ++i) {
      for (size_t d = 0; d < refs[i].shape.size(); ++d) {
        if (!refs[i].shape[d].is_static()) views[i].shape[d] = step_.find(refs[i].shape[d].name())->second;
      }
    }
  };
  evaluate(dispatch.inputs, bound.inputs);
  evaluate(dispatch.outputs, bound.outputs);
}

absl::Status Executable::run(std::span<const kiln_uniform> uniforms) {
  if (absl::Status s = set_step(uniforms); !s.ok()) return s;
  if (absl::Status s = check_weights_uploaded(); !s.ok()) return s;
  ++counters_.runs;
  ++counters_.submits;
  for (BoundDispatch& bound : dispatches_) {
    evaluate_shapes(bound);
    const kernels::cpu::KernelArgs args{program_.dispatches[bound.index], bound.inputs, bound.outputs, step_};
    if (absl::Status s = bound.kernel(args); !s.ok()) return s;
    ++counters_.dispatches;
  }
  return absl::OkStatus();
}

}  // namespace kiln::backends::cpu
