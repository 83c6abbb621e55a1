// rmsnorm and layernorm over the last dim, one workgroup per row, f32
// statistics. The including file defines LAYERNORM (0 or 1) and RESIDUAL
// (0 or 1). Operands:
//   plain:    x, g [, beta]        -> y
//   residual: a, b, g [, beta]     -> sum = a + b, y = norm(sum)
// A residual kernel reads its row back from `sum`, which it may write in
// place over a: each invocation rereads only the elements it wrote.
#include "reduce.glsl"

DTYPE(in0_dtype, 10)
DTYPE(in1_dtype, 11)
DTYPE(in2_dtype, 12)
DTYPE(in3_dtype, 13)
DTYPE(out0_dtype, 14)
DTYPE(out1_dtype, 15)
EXTENT(in0_rows, 16)
layout(constant_id = 18) const int in0_cols = 1;
layout(constant_id = 19) const float eps = 1e-5;

const int kGain = RESIDUAL + 1;  // operand of the gain; beta follows it
const int kOut = RESIDUAL;       // the normalised output
const int out_dtype = RESIDUAL == 1 ? out1_dtype : out0_dtype;
const int gain_dtype = RESIDUAL == 1 ? in2_dtype : in1_dtype;
const int beta_dtype = RESIDUAL == 1 ? in3_dtype : in2_dtype;

float row_value(uint i) {
#if RESIDUAL
  return load(OUT(0), out0_dtype, i);
#else
  return load(IN(0), in0_dtype, i);
#endif
}

void main() {
  uint row = group_index();
  if (row >= EXT(in0_rows)) return;  // uniform per workgroup
  uint cols = uint(in0_cols);
  uint base = row * cols;
  float sum = 0.0;
  float sum_sq = 0.0;
  for (uint c = gl_LocalInvocationID.x; c < cols; c += uint(wg_size)) {
#if RESIDUAL
    float v = load(IN(0), in0_dtype, base + c) + load(IN(1), in1_dtype, base + c);
    store(OUT(0), out0_dtype, base + c, v);
    v = load(OUT(0), out0_dtype, base + c);  // the sum as stored, as the unfused graph reads it
#else
    float v = load(IN(0), in0_dtype, base + c);
#endif
    sum += v;
    sum_sq += v * v;
  }
#if LAYERNORM
  float mean = workgroup_sum(sum) / float(cols);
  float centred = 0.0;
  for (uint c = gl_LocalInvocationID.x; c < cols; c += uint(wg_size)) {
    float d = row_value(base + c) - mean;
    centred += d * d;
  }
  float inv = inversesqrt(workgroup_sum(centred) / float(cols) + eps);
#else
  float mean = 0.0;
  float inv = inversesqrt(workgroup_sum(sum_sq) / float(cols) + eps);
#endif
  bool has_beta = LAYERNORM == 1 && num_inputs > kGain + 1;
  for (uint c = gl_LocalInvocationID.x; c < cols; c += uint(wg_size)) {
    float y = (row_value(base + c) - mean) * inv * load(IN(kGain), gain_dtype, c);
    if (has_beta) y += load(IN(kGain + 1), beta_dtype, c);
    store(OUT(kOut), out_dtype, base + c, y);
  }
}
