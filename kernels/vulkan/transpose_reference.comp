#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "copy_bits.glsl"
// transpose(x) {perm}: result dim d is input dim perm<d>, x of rank at most
// 6 (perm<d> past the rank keep their defaults). One invocation per result
// element, which walks its index from the last dim and gathers the input
// element; the bits are copied.
DTYPE(in0_dtype, 10)
layout(constant_id = 11) const int in0_rank = 1;
EXTENT(in0_d0, 12)
EXTENT(in0_d1, 14)
EXTENT(in0_d2, 16)
EXTENT(in0_d3, 18)
EXTENT(in0_d4, 20)
EXTENT(in0_d5, 22)
layout(constant_id = 24) const int perm0 = 0;
layout(constant_id = 25) const int perm1 = 1;
layout(constant_id = 26) const int perm2 = 2;
layout(constant_id = 27) const int perm3 = 3;
layout(constant_id = 28) const int perm4 = 4;
layout(constant_id = 29) const int perm5 = 5;

void main() {
  uint dims[6] = uint[6](EXT(in0_d0), EXT(in0_d1), EXT(in0_d2), EXT(in0_d3), EXT(in0_d4), EXT(in0_d5));
  const int perm[6] = int[6](perm0, perm1, perm2, perm3, perm4, perm5);
  uint strides[6];
  uint count = 1u;
  for (int d = in0_rank - 1; d >= 0; --d) {
    strides[d] = count;
    count *= dims[d];
  }
  uint i = global_index();
  if (i >= count) return;
  uint rest = i, source = 0u;
  for (int d = in0_rank - 1; d >= 0; --d) {
    uint extent = dims[perm[d]];
    source += rest % extent * strides[perm[d]];
    rest /= extent;
  }
  copy_element(in0_dtype, IN(0), source, OUT(0), i);
}
