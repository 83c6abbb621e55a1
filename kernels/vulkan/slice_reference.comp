#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// slice(x) along `axis` with Python bounds (end 0: to the end), x of rank
// at most 4. One invocation per output element.
DTYPE(in0_dtype, 10)
DTYPE(out0_dtype, 11)
layout(constant_id = 12) const int in0_rank = 1;
EXTENT(in0_d0, 13)
EXTENT(in0_d1, 15)
EXTENT(in0_d2, 17)
EXTENT(in0_d3, 19)
layout(constant_id = 21) const int axis = 0;
layout(constant_id = 22) const int start = 0;
layout(constant_id = 23) const int end = 0;

void main() {
  uint dims[4] = uint[4](EXT(in0_d0), EXT(in0_d1), EXT(in0_d2), EXT(in0_d3));
  int a = axis < 0 ? axis + in0_rank : axis;
  uint outer = 1u, inner = 1u;
  for (int d = 0; d < in0_rank; ++d) {
    if (d < a) outer *= dims[d];
    if (d > a) inner *= dims[d];
  }
  int size = int(dims[a]);
  uint lo = uint(start < 0 ? start + size : start);
  uint hi = uint(end <= 0 ? end + size : end);
  uint len = hi - lo;
  uint i = global_index();
  if (i >= outer * len * inner) return;
  uint o = i / (len * inner), r = (i / inner) % len, k = i % inner;
  store(OUT(0), out0_dtype, i, load(IN(0), in0_dtype, (o * uint(size) + lo + r) * inner + k));
}
