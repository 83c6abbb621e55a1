// The matrix-vector kernels' shape, shared by the GLSL (matmul_gemv.glsl)
// and the grid that launches them (kernel_table.cc): each subgroup
// (gemv_subgroup) or workgroup (gemv) computes this many adjacent output
// columns, so one read of x serves them all.
#ifndef KILN_VULKAN_GEMV_SHAPE_H
#define KILN_VULKAN_GEMV_SHAPE_H
#define KILN_VULKAN_GEMV_COLUMNS 2
#endif
