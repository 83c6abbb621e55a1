#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// kv_write(cache[S, Hkv, Dh], x[T, Hkv, Dh]): row t of x goes to row P + t of
// the cache; output 0 is the cache itself (the same memory). One invocation
// per element of x.
DTYPE(in1_dtype, 10)
DTYPE(out0_dtype, 11)
EXTENT(in1_d0, 12)
layout(constant_id = 14) const int in1_d1 = 1;
layout(constant_id = 15) const int in1_d2 = 1;

void main() {
  uint i = global_index();
  uint row_elements = uint(in1_d1 * in1_d2);
  if (i >= EXT(in1_d0) * row_elements) return;
  store(OUT(0), out0_dtype, past() * row_elements + i, load(IN(1), in1_dtype, i));
}
