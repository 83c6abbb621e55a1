// concat(x0, x1, ...) {AXIS}: the operands joined along AXIS (every other
// dim and the dtype agree). One work-item per result element, which finds
// its operand by walking the operands' extents along AXIS; the bits are
// copied. At most 8 operands (the argument list's limit).
#define KILN_PIECE(k)                                                  \
  {                                                                    \
    const int piece[IN##k##_RANK] = IN##k##_DIMS;                      \
    const size_t extent = piece[axis];                                 \
    if (column < extent) {                                             \
      OUT(0)[i] = IN(k)[(outer * extent + column) * inner + within];   \
      return;                                                          \
    }                                                                  \
    column -= extent;                                                  \
  }

__kernel void concat_elementwise(KILN_PARAMS) {
  const size_t i = get_global_id(0);
  if (i >= OUT0_COUNT) return;
  const int dims[OUT0_RANK] = OUT0_DIMS;
  const int axis = AXIS < 0 ? AXIS + OUT0_RANK : AXIS;
  size_t inner = 1;
  for (int d = axis + 1; d < OUT0_RANK; ++d) inner *= dims[d];
  const size_t within = i % inner;
  size_t column = i / inner % dims[axis];
  const size_t outer = i / inner / dims[axis];
  KILN_PIECE(0)
#if INPUTS > 1
  KILN_PIECE(1)
#endif
#if INPUTS > 2
  KILN_PIECE(2)
#endif
#if INPUTS > 3
  KILN_PIECE(3)
#endif
#if INPUTS > 4
  KILN_PIECE(4)
#endif
#if INPUTS > 5
  KILN_PIECE(5)
#endif
#if INPUTS > 6
  KILN_PIECE(6)
#endif
#if INPUTS > 7
  KILN_PIECE(7)
#endif
}
