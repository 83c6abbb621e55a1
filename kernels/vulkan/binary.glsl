// y = BINARY(a, b) elementwise, b broadcast over a's leading dims (b's
// elements repeat every in1_rows * in1_cols); the including file defines
// BINARY(a, b).
DTYPE(in0_dtype, 10)
DTYPE(in1_dtype, 11)
DTYPE(out0_dtype, 12)
EXTENT(out0_rows, 13)
layout(constant_id = 15) const int out0_cols = 1;
EXTENT(in1_rows, 16)
layout(constant_id = 18) const int in1_cols = 1;

void main() {
  uint i = global_index();
  if (i >= EXT(out0_rows) * uint(out0_cols)) return;
  float a = load(IN(0), in0_dtype, i);
  float b = load(IN(1), in1_dtype, i % (EXT(in1_rows) * uint(in1_cols)));
  store(OUT(0), out0_dtype, i, BINARY(a, b));
}
