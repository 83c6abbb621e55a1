#include "backends/opencl/defines.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "backends/support/kernel_table.h"

namespace kiln::backends::opencl {
namespace {

// Unsuffixed literals (kernels/elementwise_ops.h) are float.
constexpr const char* kFlags = "-cl-single-precision-constant";

class Defines {
 public:
  Defines(const program::Program& program, size_t index, std::string_view cl_std)
      : program_(program), index_(index), options_(absl::StrCat("-cl-std=", std::string(cl_std), " ", kFlags)) {}

  void add(std::string_view name, std::string_view value) {
    absl::StrAppend(&options_, " -D ", std::string(name), "=", std::string(value));
  }

  // The step argument holding |slot|, taking the next free one.
  absl::StatusOr<std::string> step_argument(int32_t slot) {
    auto it = std::find(slots_.begin(), slots_.end(), slot);
    if (it == slots_.end()) {
      if (slots_.size() == kStepArguments) {
        return absl::UnimplementedError(absl::StrCat(support::dispatch_label(program_, index_), ": reads more than ",
                                                     kStepArguments, " step slots"));
      }
      slots_.push_back(slot);
      it = slots_.end() - 1;
    }
    return absl::StrCat("s", it - slots_.begin());
  }

  absl::Status add_tensor(const std::string& prefix, const program::TensorRef& ref) {
    std::vector<std::string> dims;
    for (const program::Dim& dim : ref.shape) {
      if (dim.is_static()) {
        dims.push_back(absl::StrCat(dim.value));
        continue;
      }
      absl::StatusOr<std::string> argument = step_argument(dim.slot);
      if (!argument.ok()) return argument.status();
      dims.push_back(*argument);
    }
    if (dims.empty()) dims.push_back("1");
    add(prefix + "_DT", program::dtype_name(ref.dtype));
    add(prefix + "_RANK", absl::StrCat(dims.size()));
    for (size_t i = 0; i < dims.size(); ++i) add(absl::StrCat(prefix, "_D", i), dims[i]);
    add(prefix + "_COUNT", absl::StrCat("(", absl::StrJoin(dims, "*"), ")"));
    const std::vector<std::string> leading(dims.begin(), dims.end() - 1);
    add(prefix + "_ROWS", leading.empty() ? "1" : absl::StrCat("(", absl::StrJoin(leading, "*"), ")"));
    add(prefix + "_COLS", dims.back());
    add(prefix + "_DIMS", absl::StrCat("{", absl::StrJoin(dims, ","), "}"));
    return absl::OkStatus();
  }

  absl::Status add_constant(const program::Constant& constant) {
    absl::StatusOr<std::string> name = macro_name(constant.name);
    if (!name.ok()) return name.status();
    add(*name, constant_value(constant));
    return absl::OkStatus();
  }

  absl::Status add_step_param(const program::StepParam& param) {
    absl::StatusOr<std::string> name = macro_name(param.name);
    if (!name.ok()) return name.status();
    absl::StatusOr<std::string> argument = step_argument(param.slot);
    if (!argument.ok()) return argument.status();
    add(*name, *argument);
    return absl::OkStatus();
  }

  DispatchBuild finish() && { return {std::move(options_), std::move(slots_)}; }

 private:
  // "kv_heads" -> "KV_HEADS"; a name that is no C identifier is refused.
  absl::StatusOr<std::string> macro_name(const std::string& name) const {
    const bool valid = !name.empty() && !absl::ascii_isdigit(name[0]) &&
                       std::all_of(name.begin(), name.end(), [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
    if (!valid) {
      return absl::InvalidArgumentError(absl::StrCat(support::dispatch_label(program_, index_), ": constant '", name,
                                                     "' is not a C identifier"));
    }
    return absl::AsciiStrToUpper(name);
  }

  // Parenthesised, so a negative value never fuses with the operator before
  // it; reals always carry a point or an exponent.
  static std::string constant_value(const program::Constant& constant) {
    if (constant.type != program::Constant::Type::real) return absl::StrCat("(", constant.integer, ")");
    const double v = constant.real;
    if (std::isnan(v)) return "NAN";
    if (std::isinf(v)) return v > 0 ? "INFINITY" : "(-INFINITY)";
    std::string text = absl::StrFormat("%.17g", v);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    return absl::StrCat("(", text, ")");
  }

  const program::Program& program_;
  size_t index_;
  std::string options_;
  std::vector<int32_t> slots_;
};

}  // namespace

absl::StatusOr<DispatchBuild> dispatch_build(const program::Program& program, size_t index, uint32_t workgroup,
                                             std::string_view cl_std) {
  const program::Dispatch& d = program.dispatches[index];
  if (d.inputs.size() > kMaxInputs || d.outputs.size() > kMaxOutputs) {
    return absl::UnimplementedError(absl::StrCat(support::dispatch_label(program, index), ": ", d.inputs.size(),
                                                 " inputs and ", d.outputs.size(), " outputs; an OpenCL kernel takes at most ",
                                                 kMaxInputs, " and ", kMaxOutputs));
  }
  Defines defines(program, index, cl_std);
  for (const program::StepParam& param : d.step_params) {
    if (absl::Status s = defines.add_step_param(param); !s.ok()) return s;
  }
  for (const program::Constant& constant : d.constants) {
    if (absl::Status s = defines.add_constant(constant); !s.ok()) return s;
  }
  defines.add("INPUTS", absl::StrCat(d.inputs.size()));
  defines.add("OUTPUTS", absl::StrCat(d.outputs.size()));
  for (size_t i = 0; i < d.inputs.size(); ++i) {
    if (absl::Status s = defines.add_tensor(absl::StrCat("IN", i), d.inputs[i]); !s.ok()) return s;
  }
  for (size_t i = 0; i < d.outputs.size(); ++i) {
    if (absl::Status s = defines.add_tensor(absl::StrCat("OUT", i), d.outputs[i]); !s.ok()) return s;
  }
  defines.add("WG", absl::StrCat(workgroup));
  return std::move(defines).finish();
}

}  // namespace kiln::backends::opencl
