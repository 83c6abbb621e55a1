#pragma once

#include <span>
#include <string_view>

namespace kiln::kernels::opencl {

// The OpenCL C files of kernels/opencl (and kernels/elementwise_ops.h),
// embedded in the plugin at build time (embed_sources.cmake): the plugin
// reads no file at run time.
struct EmbeddedSource {
  std::string_view name;  // the file name without its extension: "matmul_gemv", "prelude"
  std::string_view text;
};

std::span<const EmbeddedSource> embedded_sources();

}  // namespace kiln::kernels::opencl
