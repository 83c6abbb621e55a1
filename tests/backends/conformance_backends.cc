// The backends the conformance harness runs, one line each, with what each
// does not support yet. A listed case still runs: while it fails it is
// skipped with its reason, and once it passes the test fails until the
// line is removed, so the lists only shrink.

#include "tests/backends/conformance_harness.h"

namespace kiln::backends::testing {
namespace {

// The ops with a "vector" kernel beside the reference in
// kernels/cpu/kernel_table.cc.
const std::map<std::string, std::vector<Variant>> kCpuVariants = {
    {"matmul", {{"reference"}, {"vector"}}},
    {"attention", {{"reference"}, {"vector"}}},
    {"rmsnorm", {{"reference"}, {"vector"}}},
    {"residual_rmsnorm", {{"reference"}, {"vector"}}},
    {"fused_ffn", {{"reference"}, {"vector"}}},
    {"fused_gate_up", {{"reference"}, {"vector"}}},
    {"matmul_rmsnorm", {{"reference"}, {"vector"}}},
    {"matmul_qkv", {{"reference"}, {"vector"}}},
};

// The ops with more than one kernel in kernels/vulkan/kernel_table.cc.
const std::map<std::string, std::vector<Variant>> kVulkanVariants = {
    {"matmul", {{"gemv"}, {"gemv_subgroup", "subgroups"}, {"tiled"}, {"coopmat", "cooperative_matrix"}}},
    {"fused_gate_up", {{"gemv"}, {"gemv_subgroup", "subgroups"}, {"tiled"}}},
    {"matmul_qkv", {{"gemv"}, {"gemv_subgroup", "subgroups"}, {"tiled"}}},
    {"attention", {{"reference"}, {"split"}, {"decode", "subgroups"}}},
    {"top_k", {{"reference"}, {"split"}}},
    {"matmul_residual", {{"gemv"}, {"gemv_subgroup", "subgroups"}}},
    {"rmsnorm_matmul", {{"gemv"}, {"gemv_subgroup", "subgroups"}}},
    {"rmsnorm_gate_up", {{"gemv"}, {"gemv_subgroup", "subgroups"}}},
    {"rmsnorm_qkv_rope", {{"gemv"}, {"gemv_subgroup", "subgroups"}}},
};

const std::vector<Unsupported> kVulkanUnsupported = {
    // By design, as the variant table says: both need a whole matrix (or
    // a whole output row) in one workgroup at decode; the fusion rules
    // leave them unfused for this backend.
    {"fused_ffn", "no fused_ffn kernel: a decode kernel must not give a whole matrix to one workgroup"},
    {"matmul_rmsnorm", "no matmul_rmsnorm kernel: a decode kernel must not give a whole matrix to one workgroup"},
    {"kv_write_f16_cache", "a graph output that is the state itself: the plugin reads outputs from the arena only"},
};

// The ops with more than one kernel in kernels/opencl/kernel_table.cc.
const std::map<std::string, std::vector<Variant>> kOpenclVariants = {
    {"matmul", {{"gemv"}, {"gemv_subgroup", "subgroups"}, {"tiled"}}},
    {"fused_gate_up", {{"gemv"}, {"gemv_subgroup", "subgroups"}, {"tiled"}}},
    {"matmul_qkv", {{"gemv"}, {"gemv_subgroup", "subgroups"}, {"tiled"}}},
    {"attention", {{"workgroup"}, {"decode"}}},
    {"top_k", {{"workgroup"}, {"split"}}},
    {"matmul_residual", {{"gemv"}, {"gemv_subgroup", "subgroups"}}},
    {"rmsnorm_matmul", {{"gemv"}, {"gemv_subgroup", "subgroups"}}},
    {"rmsnorm_gate_up", {{"gemv"}, {"gemv_subgroup", "subgroups"}}},
    {"rmsnorm_qkv_rope", {{"gemv"}, {"gemv_subgroup", "subgroups"}}},
};

const std::vector<Unsupported> kOpenclUnsupported = {
    // By design (kernels/opencl/variant_rules.cc): both need a whole
    // product before their epilogue; the fusion rules leave them unfused.
    {"fused_ffn", "no fused_ffn kernel: a decode kernel must not give a whole matrix to one work-group"},
    {"matmul_rmsnorm", "no matmul_rmsnorm kernel: a decode kernel must not give a whole matrix to one work-group"},
};

}  // namespace

const std::vector<BackendUnderTest>& backends_under_test() {
  static const std::vector<BackendUnderTest> kBackends = {
      {"cpu", kCpuVariants, {}},
      {"vulkan", kVulkanVariants, kVulkanUnsupported},
      {"opencl", kOpenclVariants, kOpenclUnsupported},
  };
  return kBackends;
}

}  // namespace kiln::backends::testing
