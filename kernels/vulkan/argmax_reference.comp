#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// argmax over the last axis, one workgroup per row; the first index wins a
// tie, as the cpu reference does. Output i32.
DTYPE(in0_dtype, 10)
EXTENT(in0_rows, 11)
layout(constant_id = 13) const int in0_cols = 1;
shared float best_value[wg_size];
shared uint best_index[wg_size];

void main() {
  uint row = group_index();
  if (row >= EXT(in0_rows)) return;
  uint lane = gl_LocalInvocationID.x;
  uint cols = uint(in0_cols);
  float value = -1.0 / 0.0;
  uint index = 0xffffffffu;
  for (uint c = lane; c < cols; c += uint(wg_size)) {
    float v = load(IN(0), in0_dtype, row * cols + c);
    if (v > value || index == 0xffffffffu) { value = v; index = c; }
  }
  best_value[lane] = value;
  best_index[lane] = index;
  barrier();
  for (uint stride = uint(wg_size) / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      float v = best_value[lane + stride];
      uint i = best_index[lane + stride];
      bool better = i != 0xffffffffu && (best_index[lane] == 0xffffffffu || v > best_value[lane] ||
                                         (v == best_value[lane] && i < best_index[lane]));
      if (better) { best_value[lane] = v; best_index[lane] = i; }
    }
    barrier();
  }
  if (lane == 0u) store_int(OUT(0), row, int(best_index[0]));
}
