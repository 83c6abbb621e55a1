// Matrix-vector schedule for few rows (decode): each output column is one
// dot product over K, split across the invocations of a workgroup
// (SUBGROUP 0: one column per workgroup, a shared-memory reduction) or of a
// subgroup (SUBGROUP 1: wg_size / subgroup_size columns per workgroup,
// subgroupAdd). Rows are looped, so it is correct for any M but meant for
// M = 1. The grid: ceil(columns / columns per workgroup) workgroups.
#include "matmul.glsl"
#if SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
layout(constant_id = 3) const int subgroup_size = 32;  // the device's; the plugin sets it
const uint kLanes = uint(subgroup_size);
#else
#include "reduce.glsl"
const uint kLanes = uint(wg_size);
#endif

float column_sum(float x) {
#if SUBGROUP
  return subgroupAdd(x);
#else
  return workgroup_sum(x);
#endif
}

void main() {
  uint per_group = uint(wg_size) / kLanes;
#if SUBGROUP
  uint lane = gl_SubgroupInvocationID;
  uint col = group_index() * per_group + gl_SubgroupID;
#else
  uint lane = gl_LocalInvocationID.x;
  uint col = group_index();
#endif
  if (col >= kColumns) return;  // uniform per subgroup, or per workgroup without subgroups
  int seg = segment(col);
  uint n = col - segment_start(seg);
  uint cols = segment_cols(seg);
  uint rows = EXT(out0_rows);
  for (uint row = 0u; row < rows; ++row) {
    float product[2] = float[2](0.0, 0.0);
    for (uint k = lane; k < kK; k += kLanes) {
      float x = load_x(row, k);
      for (int p = 0; p < kWeights; ++p) product[p] += x * load_w(weight_of(p, seg), row, k, n, cols);
    }
    product[0] = column_sum(product[0]);
    if (kWeights > 1) product[1] = column_sum(product[1]);
    if (lane == 0u) finish(row, col, product[0], product[1]);
  }
}
