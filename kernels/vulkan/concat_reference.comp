#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "copy_bits.glsl"
// concat(x0, x1, ...) {axis}: the inputs joined along axis (every other dim
// and the dtype agree). As the op derives it, each input is `outer` blocks
// of width<i> x `inner` elements, laid side by side in the result; widths
// past the inputs keep their defaults. One invocation per result element,
// which finds its input by walking the widths; the bits are copied. At most
// KILN_MAX_OPERANDS - 1 inputs (the plugin refuses more operands).
DTYPE(out0_dtype, 10)
EXTENT(outer, 11)
EXTENT(inner, 13)
EXTENT(width0, 15)
EXTENT(width1, 17)
EXTENT(width2, 19)
EXTENT(width3, 21)
EXTENT(width4, 23)
EXTENT(width5, 25)
EXTENT(width6, 27)
EXTENT(width7, 29)
EXTENT(width8, 31)
EXTENT(width9, 33)
EXTENT(width10, 35)
EXTENT(width11, 37)

void main() {
  uint widths[KILN_MAX_OPERANDS - 1] =
      uint[KILN_MAX_OPERANDS - 1](EXT(width0), EXT(width1), EXT(width2), EXT(width3), EXT(width4), EXT(width5),
                                  EXT(width6), EXT(width7), EXT(width8), EXT(width9), EXT(width10), EXT(width11));
  uint total = 0u;
  for (int k = 0; k < num_inputs; ++k) total += widths[k];
  uint inner_extent = EXT(inner);
  uint i = global_index();
  if (i >= EXT(outer) * total * inner_extent) return;
  uint within = i % inner_extent;
  uint column = i / inner_extent % total;
  uint block = i / inner_extent / total;
  for (int k = 0; k < num_inputs; ++k) {
    if (column < widths[k]) {
      copy_element(out0_dtype, IN(k), (block * widths[k] + column) * inner_extent + within, OUT(0), i);
      return;
    }
    column -= widths[k];
  }
}
