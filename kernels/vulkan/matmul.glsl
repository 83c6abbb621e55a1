// The matrix products share their operand layout and epilogues here; the
// gemv and tiled schedules include it. The including file defines
// MATMUL_KIND, and NORM (default 0):
//   KIND_PLAIN     matmul(a[..., M, K], b, bias?) -> [..., M, N]; b is 2-D or
//                  has a's batch dims. With NORM: rmsnorm_matmul(x, g, w)
//   KIND_GATE_UP   fused_gate_up(x, w_gate, w_up) -> act(x @ w_gate) * (x @ w_up).
//                  With NORM: rmsnorm_gate_up(x, g, w_gate, w_up)
//   KIND_QKV       matmul_qkv(x, wq, wk, wv, bq?, bk?, bv?) -> q, k, v
//   KIND_RESIDUAL  matmul_residual(x, w, residual) -> x @ w + residual
//   KIND_QKV_ROPE  rmsnorm_qkv_rope(x, g, wq, wk, wv, k_cache, v_cache, bq?,
//                  bk?, bv?) (NORM 1) -> rope(q); rope(k) and v into the
//                  caches at row P. Its epilogue needs both columns of a
//                  rope pair in one place: a schedule that includes this
//                  computes pairs (pair_column), never lone columns.
// NORM: x is normalised by rmsnorm with gain g (operand 1) in the prologue;
// the weights then start at operand 2. A schedule multiplies x by g as it
// loads it, sums x^2 beside the dot products, and scales each product by
// 1 / rms (norm_scale) before the epilogue.
// Weights are [K, N], or [N, K] when transpose_b; any float dtype, f32
// accumulation. Output columns are numbered across q, k and v for the qkv
// kinds, so one grid covers the three outputs.
#include "elementwise.glsl"
#define KIND_PLAIN 0
#define KIND_GATE_UP 1
#define KIND_QKV 2
#define KIND_RESIDUAL 3
#define KIND_QKV_ROPE 4
#ifndef NORM
#define NORM 0
#endif
#include "rope.glsl"

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
DTYPE(in7_dtype, 32)
DTYPE(in8_dtype, 33)
DTYPE(in9_dtype, 34)
EXTENT(in0_rows, 35)                               // x's rows: the gemv's M
// A kernel declares only the constants its dispatch has (the plugin fills
// every declared one from the dispatch).
#if NORM
layout(constant_id = 37) const float eps = 1e-5;
#else
const float eps = 0.0;
#endif
// KIND_QKV_ROPE: the products' widths (the outputs are [T, Hq, Dh] and the
// caches) and rope's attributes.
#if MATMUL_KIND == KIND_QKV_ROPE
layout(constant_id = 38) const int nq = 0;
layout(constant_id = 39) const int nk = 0;
layout(constant_id = 40) const int nv = 0;
layout(constant_id = 41) const int head_dim = 1;
layout(constant_id = 42) const float theta = 10000.0;
layout(constant_id = 43) const int rotary_dim = 0;
layout(constant_id = 44) const bool interleaved = false;
layout(constant_id = 45) const float scaling_factor = 1.0;
layout(constant_id = 46) const float scaling_low_freq_factor = 1.0;
layout(constant_id = 47) const float scaling_high_freq_factor = 4.0;
layout(constant_id = 48) const int scaling_original_context = 0;
#else
const int nq = 0, nk = 0, nv = 0, head_dim = 1, rotary_dim = 0, scaling_original_context = 0;
const float theta = 0.0, scaling_factor = 1.0, scaling_low_freq_factor = 1.0, scaling_high_freq_factor = 1.0;
const bool interleaved = false;
#endif
#if MATMUL_KIND == KIND_GATE_UP
layout(constant_id = 30) const int act = ACT_SILU;
layout(constant_id = 31) const int approximate = 0;
#else
const int act = ACT_SILU;
const int approximate = 0;
#endif

const uint kK = uint(in0_cols);
const bool kQkv = MATMUL_KIND == KIND_QKV || MATMUL_KIND == KIND_QKV_ROPE;
const int kFirstWeight = NORM != 0 ? 2 : 1;  // the operand of the first weight
const int kWeights = MATMUL_KIND == KIND_GATE_UP ? 2 : 1;  // products per output element

// An input's dtype code; folded wherever `i` is a constant.
int in_dtype(int i) {
  switch (i) {
    case 0: return in0_dtype;
    case 1: return in1_dtype;
    case 2: return in2_dtype;
    case 3: return in3_dtype;
    case 4: return in4_dtype;
    case 5: return in5_dtype;
    case 6: return in6_dtype;
    case 7: return in7_dtype;
    case 8: return in8_dtype;
    default: return in9_dtype;
  }
}

// The widths of the outputs' column segments (q, k, v for the qkv kinds).
uint segment_cols(int seg) {
  if (MATMUL_KIND == KIND_QKV_ROPE) return uint(seg == 0 ? nq : (seg == 1 ? nk : nv));
  return uint(seg == 0 ? out0_cols : (seg == 1 ? out1_cols : out2_cols));
}
const uint kColumns = MATMUL_KIND == KIND_QKV_ROPE ? uint(nq + nk + nv)
                      : (MATMUL_KIND == KIND_QKV ? uint(out0_cols + out1_cols + out2_cols) : uint(out0_cols));

// Which output a column belongs to (0 but for the qkv kinds) and its column there.
int segment(uint col) {
  if (!kQkv) return 0;
  if (col < segment_cols(0)) return 0;
  return col < segment_cols(0) + segment_cols(1) ? 1 : 2;
}
uint segment_start(int seg) { return seg == 0 ? 0u : (seg == 1 ? segment_cols(0) : segment_cols(0) + segment_cols(1)); }

float load_x(uint row, uint k) { return load(IN(0), in0_dtype, row * kK + k); }
// The gain of the prologue's norm at feature k (NORM).
float load_gain(uint k) { return load(IN(1), in1_dtype, k); }

// Element (k, n) of weight w (0: the first weight operand), for a's row `row`.
float load_w(int w, uint row, uint k, uint n, uint cols) {
  uint index = transpose_b ? n * kK + k : k * cols + n;
  if (MATMUL_KIND == KIND_PLAIN && in1_rank > 2) index += (row / EXT(in0_r2)) * kK * cols;
  return load(IN(kFirstWeight + w), in_dtype(kFirstWeight + w), index);
}

// The weight that product p of column `col` reads.
int weight_of(int p, int seg) { return kQkv ? seg : p; }

// 1 / rms of a row from its sum of squares (NORM).
float norm_scale(float squares) { return inversesqrt(squares / float(kK) + eps); }

// The bias operand of segment `seg`, or -1 when the dispatch has none.
int bias_operand(int seg) {
  if (MATMUL_KIND == KIND_PLAIN && NORM == 0 && num_inputs == 3) return 2;
  if (MATMUL_KIND == KIND_QKV && num_inputs == 7) return 4 + seg;
  if (MATMUL_KIND == KIND_QKV_ROPE && num_inputs == 10) return 7 + seg;
  return -1;
}

float with_bias(int seg, uint n, float y) {
  int bias = bias_operand(seg);
  return bias < 0 ? y : y + load(IN(bias), in_dtype(bias), n);
}

// Writes one output element from its products (every kind but KIND_QKV_ROPE).
void finish(uint row, uint col, float product0, float product1) {
  int seg = segment(col);
  uint n = col - segment_start(seg);
  uint cols = segment_cols(seg);
  float y = product0;
  if (MATMUL_KIND == KIND_GATE_UP) y = activation(act, approximate, product0) * product1;
  if (MATMUL_KIND == KIND_RESIDUAL) y += load(IN(2), in2_dtype, row * cols + n);
  y = with_bias(seg, n, y);
  int dtype = seg == 0 ? out0_dtype : (seg == 1 ? out1_dtype : out2_dtype);
  store(OUT(seg), dtype, row * cols + n, y);
}

// ---- KIND_QKV_ROPE: rope pairs -----------------------------------------------
// Each head of q, k and v (all of head_dim) is cut into pairs: rope's
// rotated pairs first, (2i, 2i + 1) when interleaved else (i, i + rotary_dim
// / 2), then the passed-through features two by two (the last one alone
// when head_dim is odd). v's heads take the same cut and are not rotated.

uint pairs_per_head() { return uint(rotary_dim) / 2u + (uint(head_dim - rotary_dim) + 1u) / 2u; }
uint pair_count() { return kColumns / uint(head_dim) * pairs_per_head(); }

// Column `which` (0 or 1) of pair `pair`; kColumns when it does not exist.
uint pair_column(uint pair, uint which) {
  if (pair >= pair_count()) return kColumns;
  uint head = pair / pairs_per_head(), i = pair % pairs_per_head();
  uint half_ = uint(rotary_dim) / 2u;
  uint d;
  if (i < half_) {
    d = interleaved ? 2u * i + which : i + which * half_;
  } else {
    d = uint(rotary_dim) + 2u * (i - half_) + which;
    if (d >= uint(head_dim)) return kColumns;
  }
  return head * uint(head_dim) + d;
}

// Writes pair `pair` of row `row` from its two products: rotated for q and
// k, then q to output 0 and k, v to their caches at row P + row.
void finish_pair(uint row, uint pair, float product0, float product1) {
  uint col0 = pair_column(pair, 0u), col1 = pair_column(pair, 1u);
  int seg = segment(col0);
  uint n0 = col0 - segment_start(seg);
  uint n1 = col1 < kColumns ? col1 - segment_start(seg) : 0u;
  float y0 = with_bias(seg, n0, product0);
  float y1 = col1 < kColumns ? with_bias(seg, n1, product1) : 0.0;
  uint i = pair % pairs_per_head();
  if (seg < 2 && i < uint(rotary_dim) / 2u) {
    float angle = float(past() + row) *
                  rope_inverse_frequency(i, theta, rotary_dim, scaling_factor, scaling_low_freq_factor,
                                         scaling_high_freq_factor, scaling_original_context);
    float c = cos(angle), s = sin(angle);
    float r0 = y0 * c - y1 * s, r1 = y1 * c + y0 * s;
    y0 = r0;
    y1 = r1;
  }
  uint cols = segment_cols(seg);
  uint base = seg == 0 ? row * cols : (past() + row) * cols;
  int dtype = seg == 0 ? out0_dtype : (seg == 1 ? out1_dtype : out2_dtype);
  store(OUT(seg), dtype, base + n0, y0);
  if (col1 < kColumns) store(OUT(seg), dtype, base + n1, y1);
}
