#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// softmax over the last axis, one workgroup per row: max, sum of exp, scale.
#include "reduce.glsl"
DTYPE(in0_dtype, 10)
DTYPE(out0_dtype, 11)
EXTENT(in0_rows, 12)
layout(constant_id = 14) const int in0_cols = 1;

void main() {
  uint row = group_index();
  if (row >= EXT(in0_rows)) return;
  uint cols = uint(in0_cols);
  uint base = row * cols;
  float m = -1.0 / 0.0;
  for (uint c = gl_LocalInvocationID.x; c < cols; c += uint(wg_size)) m = max(m, load(IN(0), in0_dtype, base + c));
  m = workgroup_max(m);
  float sum = 0.0;
  for (uint c = gl_LocalInvocationID.x; c < cols; c += uint(wg_size)) sum += exp(load(IN(0), in0_dtype, base + c) - m);
  float inv = 1.0 / workgroup_sum(sum);
  for (uint c = gl_LocalInvocationID.x; c < cols; c += uint(wg_size)) {
    store(OUT(0), out0_dtype, base + c, exp(load(IN(0), in0_dtype, base + c) - m) * inv);
  }
}
