// y = UNARY(x) elementwise; the including file defines UNARY(x).
DTYPE(in0_dtype, 10)
DTYPE(out0_dtype, 11)
EXTENT(out0_rows, 12)
layout(constant_id = 14) const int out0_cols = 1;

void main() {
  uint i = global_index();
  if (i >= EXT(out0_rows) * uint(out0_cols)) return;
  float x = load(IN(0), in0_dtype, i);
  store(OUT(0), out0_dtype, i, UNARY(x));
}
