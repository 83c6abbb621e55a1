// slice(x) {AXIS, START, END}: x[START:END] along AXIS, Python's negative
// indices, END = 0 meaning "to the end", taken against the dim's value at
// this step (a symbolic dim sliced to a suffix reads the step's last rows).
// One work-item per result element; the bits are copied.
__kernel void slice_elementwise(KILN_PARAMS) {
  const size_t i = get_global_id(0);
  if (i >= OUT0_COUNT) return;
  const int dims[IN0_RANK] = IN0_DIMS;
  const int axis = AXIS < 0 ? AXIS + IN0_RANK : AXIS;
  const long size = dims[axis];
  const long lo = START < 0 ? START + size : START;
  const long hi = END <= 0 ? END + size : END;
  size_t inner = 1;
  for (int d = axis + 1; d < IN0_RANK; ++d) inner *= dims[d];
  const size_t width = (size_t)(hi - lo) * inner;  // a result row: the sliced extent times inner
  const size_t outer = i / width, within = i % width;
  OUT(0)[i] = IN(0)[outer * size * inner + lo * inner + within];
}
