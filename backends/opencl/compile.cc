#include "backends/opencl/compile.h"

#include <algorithm>
#include <bit>

#include "absl/strings/str_cat.h"
#include "backends/opencl/cl_error.h"
#include "backends/opencl/defines.h"
#include "backends/support/kernel_table.h"
#include "program/step.h"

namespace kiln::backends::opencl {
namespace {

using kernels::opencl::KernelRow;

// The kernel's work-group size on this device: its preferred size, or the
// largest power of two the device allows when that is smaller. A kernel
// that needs exactly its size (a tiled kernel) is refused instead.
absl::StatusOr<uint32_t> workgroup_size(const Device& device, const KernelRow& row, const std::string& label) {
  const uint64_t limit = device.info().max_workgroup_size;
  if (row.kernel.workgroup <= limit) return row.kernel.workgroup;
  if (row.kernel.fixed_workgroup) {
    return absl::UnimplementedError(absl::StrCat(label, ": needs work-groups of ", row.kernel.workgroup,
                                                 " work-items; '", device.info().name, "' allows ", limit));
  }
  return static_cast<uint32_t>(std::bit_floor(limit));
}

// The bytes of scratch |row|'s kernel keeps for dispatch |d|, its tensors
// at their bounds (a Program serves every step up to them).
uint64_t scratch_at_bound(const program::Program& program, const program::Dispatch& d, const KernelRow& row) {
  const program::StepValues bound = program::bound_step(program);
  const auto shapes_of = [&](const std::vector<program::TensorRef>& refs) {
    std::vector<std::vector<int64_t>> shapes;
    for (const program::TensorRef& ref : refs) {
      std::vector<int64_t>& shape = shapes.emplace_back();
      for (const program::Dim& dim : ref.shape) shape.push_back(program::extent(dim, bound));
    }
    return shapes;
  };
  const std::vector<std::vector<int64_t>> inputs = shapes_of(d.inputs), outputs = shapes_of(d.outputs);
  return static_cast<uint64_t>(row.kernel.scratch({d, inputs, outputs}));
}

// One buffer for every dispatch's scratch, each range 256-byte aligned,
// zero-filled once (the kernels leave their counters at zero); empty when no
// kernel keeps scratch.
absl::StatusOr<ClMem> allocate_scratch(Device& device, std::vector<BoundDispatch>& dispatches) {
  uint64_t total = 0;
  for (BoundDispatch& bound : dispatches) {
    bound.scratch_offset = total;
    total += (bound.scratch_bytes + 255) / 256 * 256;
  }
  if (total == 0) return ClMem();
  absl::StatusOr<ClMem> buffer = device.create_buffer(total, "the scratch");
  if (!buffer.ok()) return buffer.status();
  const cl_uint zero = 0;
  cl_int status = clEnqueueFillBuffer(device.queue(), buffer->get(), &zero, sizeof zero, 0, total, 0, nullptr, nullptr);
  if (status == CL_SUCCESS) status = clFinish(device.queue());
  if (absl::Status s = cl_status(status, "zero-filling the scratch"); !s.ok()) return s;
  return buffer;
}

// The OpenCL C |row|'s kernel is built as: 1.2, or for a subgroup kernel
// the device's subgroup version (refused where the device has none: its
// capabilities report no subgroup size, so only a forced variant gets here).
absl::StatusOr<std::string> opencl_c_version(const Device& device, const KernelRow& row, const std::string& label) {
  if (!row.kernel.subgroups) return std::string("CL1.2");
  const Subgroups& subgroups = device.info().subgroups;
  if (subgroups.cl_std.empty()) {
    return absl::UnimplementedError(absl::StrCat(label, ": kernel ", kernels::opencl::entry_point(row),
                                                 " needs subgroups; '", device.info().name,
                                                 "' has no usable cl_khr_subgroups or cl_intel_subgroups"));
  }
  return subgroups.cl_std;
}

absl::StatusOr<BoundDispatch> bind_dispatch(Device& device, const program::Program& program, size_t index) {
  const program::Dispatch& d = program.dispatches[index];
  const std::string label = support::dispatch_label(program, index);
  const KernelRow* row = support::find_kernel(kernels::opencl::kernel_table(), d.kernel, d.variant);
  if (row == nullptr) return support::missing_kernel(program, index, "opencl");
  absl::StatusOr<uint32_t> workgroup = workgroup_size(device, *row, label);
  if (!workgroup.ok()) return workgroup.status();
  absl::StatusOr<std::string> cl_std = opencl_c_version(device, *row, label);
  if (!cl_std.ok()) return cl_std.status();
  absl::StatusOr<DispatchBuild> build = dispatch_build(program, index, *workgroup, *cl_std);
  if (!build.ok()) return build.status();
  uint64_t scratch_bytes = 0;
  if (row->kernel.scratch != nullptr) {
    scratch_bytes = scratch_at_bound(program, d, *row);
    build->options += " -D KILN_SCRATCH";
  }
  int64_t team = 1;
  if (row->kernel.team != nullptr) {
    team = row->kernel.team(d, *workgroup);
    absl::StrAppend(&build->options, " -D GEMV_LANES=", team);
  }
  const std::string name = kernels::opencl::entry_point(*row);
  const std::string source = kernels::opencl::kernel_source(name);
  if (source.empty()) return absl::InternalError(absl::StrCat(label, ": kernel file ", name, ".cl is not embedded"));
  absl::StatusOr<cl_program> built = device.programs().get(name, source, build->options);
  if (!built.ok()) return absl::Status(built.status().code(), absl::StrCat(label, ": ", built.status().message()));
  cl_int status = CL_SUCCESS;
  BoundDispatch bound;
  bound.row = row;
  bound.kernel = ClKernel(clCreateKernel(*built, name.c_str(), &status));
  if (absl::Status s = cl_status(status, absl::StrCat(label, ": creating kernel ", name)); !s.ok()) return s;
  size_t kernel_limit = 0;
  clGetKernelWorkGroupInfo(bound.kernel.get(), device.id(), CL_KERNEL_WORK_GROUP_SIZE, sizeof kernel_limit,
                           &kernel_limit, nullptr);
  if (kernel_limit != 0 && kernel_limit < *workgroup) {
    return absl::ResourceExhaustedError(absl::StrCat(label, ": kernel ", name, " runs at most ", kernel_limit,
                                                     " work-items per group on '", device.info().name,
                                                     "'; it was built for ", *workgroup));
  }
  bound.workgroup = *workgroup;
  bound.team = team;
  bound.step_slots = std::move(build->step_slots);
  bound.scratch_bytes = scratch_bytes;
  bound.input_shapes.resize(d.inputs.size());
  bound.output_shapes.resize(d.outputs.size());
  return bound;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Executable>> compile(Device& device, program::Program program) {
  // The arena first: a Program too large for the device fails before any
  // kernel is built.
  ClMem arena;
  if (program.arena_bytes > 0) {
    absl::StatusOr<ClMem> buffer = device.create_buffer(static_cast<uint64_t>(program.arena_bytes), "the arena");
    if (!buffer.ok()) return buffer.status();
    arena = *std::move(buffer);
  }
  std::vector<BoundDispatch> dispatches;
  dispatches.reserve(program.dispatches.size());
  for (size_t i = 0; i < program.dispatches.size(); ++i) {
    absl::StatusOr<BoundDispatch> bound = bind_dispatch(device, program, i);
    if (!bound.ok()) return bound.status();
    dispatches.push_back(*std::move(bound));
  }
  absl::StatusOr<ClMem> scratch = allocate_scratch(device, dispatches);
  if (!scratch.ok()) return scratch.status();
  const bool needs_binding = !program.weights.empty() || program.state_bytes > 0;
  auto executable = std::make_unique<Executable>(device, std::move(program), std::move(dispatches), std::move(arena),
                                                 *std::move(scratch));
  if (!needs_binding) {
    if (absl::Status s = executable->bind(nullptr, nullptr); !s.ok()) return s;
  }
  return executable;
}

}  // namespace kiln::backends::opencl
