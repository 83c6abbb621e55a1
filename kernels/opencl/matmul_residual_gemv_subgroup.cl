// matmul_residual_gemv.cl with a subgroup per output, its lanes summed by
// sub_group_reduce_add instead of through local memory (prelude.cl's gemv
// teams). Built with the device's subgroup OpenCL C (-cl-std=CL2.0 or
// CL3.0 with cl_khr_subgroups, CL1.2 with cl_intel_subgroups); listed for
// devices whose capabilities report a subgroup size.
#pragma OPENCL EXTENSION cl_khr_subgroups : enable
#undef GEMV_SUBGROUP
#define GEMV_SUBGROUP 1
#include "matmul_residual_gemv.cl"
