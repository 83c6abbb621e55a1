// The matrix products: matmul, fused_gate_up and matmul_qkv share their
// operand layout and epilogues here; the gemv and tiled schedules include
// it. The including file defines MATMUL_KIND:
//   KIND_PLAIN    matmul(a[..., M, K], b, bias?) -> [..., M, N]; b is 2-D or
//                 has a's batch dims
//   KIND_GATE_UP  fused_gate_up(x, w_gate, w_up) -> act(x @ w_gate) * (x @ w_up)
//   KIND_QKV      matmul_qkv(x, wq, wk, wv, bq?, bk?, bv?) -> q, k, v
// Weights are [K, N], or [N, K] when transpose_b; any float dtype, f32
// accumulation. Output columns are numbered across q, k and v for
// KIND_QKV, so one grid covers the three outputs.
#include "elementwise.glsl"
#define KIND_PLAIN 0
#define KIND_GATE_UP 1
#define KIND_QKV 2

DTYPE(in0_dtype, 10)
DTYPE(in1_dtype, 11)
DTYPE(in2_dtype, 12)
DTYPE(in3_dtype, 13)
DTYPE(in4_dtype, 14)
DTYPE(in5_dtype, 15)
DTYPE(in6_dtype, 16)
DTYPE(out0_dtype, 17)
DTYPE(out1_dtype, 18)
DTYPE(out2_dtype, 19)
EXTENT(out0_rows, 20)                              // every row of every batch
layout(constant_id = 22) const int in0_cols = 1;   // K
layout(constant_id = 23) const int out0_cols = 1;  // N (of q for KIND_QKV)
layout(constant_id = 24) const int out1_cols = 0;
layout(constant_id = 25) const int out2_cols = 0;
layout(constant_id = 26) const bool transpose_b = false;
layout(constant_id = 27) const int in1_rank = 2;
EXTENT(in0_r2, 28)                                 // M: rows per batch of a
#if MATMUL_KIND == KIND_GATE_UP
layout(constant_id = 30) const int act = ACT_SILU;
layout(constant_id = 31) const int approximate = 0;
#else
const int act = ACT_SILU;
const int approximate = 0;
#endif

const uint kK = uint(in0_cols);
const uint kColumns = MATMUL_KIND == KIND_QKV ? uint(out0_cols + out1_cols + out2_cols) : uint(out0_cols);
const int kWeights = MATMUL_KIND == KIND_GATE_UP ? 2 : 1;  // products per output element

// Which output a column belongs to (0 but for KIND_QKV) and its column there.
int segment(uint col) {
  if (MATMUL_KIND != KIND_QKV) return 0;
  if (col < uint(out0_cols)) return 0;
  return col < uint(out0_cols + out1_cols) ? 1 : 2;
}
uint segment_cols(int seg) { return uint(seg == 0 ? out0_cols : (seg == 1 ? out1_cols : out2_cols)); }
uint segment_start(int seg) { return seg == 0 ? 0u : (seg == 1 ? uint(out0_cols) : uint(out0_cols + out1_cols)); }

float load_x(uint row, uint k) { return load(IN(0), in0_dtype, row * kK + k); }

// Element (k, n) of weight w (0: the first weight operand), for a's row `row`.
float load_w(int w, uint row, uint k, uint n, uint cols) {
  uint index = transpose_b ? n * kK + k : k * cols + n;
  if (MATMUL_KIND == KIND_PLAIN && in1_rank > 2) index += (row / EXT(in0_r2)) * kK * cols;
  int dtype = w == 0 ? in1_dtype : (w == 1 ? in2_dtype : in3_dtype);
  return load(IN(1 + w), dtype, index);
}

// The weight that product p of column `col` reads.
int weight_of(int p, int seg) { return MATMUL_KIND == KIND_QKV ? seg : p; }

// Writes one output element from its products.
void finish(uint row, uint col, float product0, float product1) {
  int seg = segment(col);
  uint n = col - segment_start(seg);
  uint cols = segment_cols(seg);
  float y = product0;
  if (MATMUL_KIND == KIND_GATE_UP) y = activation(act, approximate, product0) * product1;
  bool has_bias = (MATMUL_KIND == KIND_PLAIN && num_inputs == 3) || (MATMUL_KIND == KIND_QKV && num_inputs == 7);
  if (has_bias) {
    int bias = MATMUL_KIND == KIND_PLAIN ? 2 : 4 + seg;
    int dtype = bias == 2 ? in2_dtype : (bias == 4 ? in4_dtype : (bias == 5 ? in5_dtype : in6_dtype));
    y += load(IN(bias), dtype, n);
  }
  int dtype = seg == 0 ? out0_dtype : (seg == 1 ? out1_dtype : out2_dtype);
  store(OUT(seg), dtype, row * cols + n, y);
}
