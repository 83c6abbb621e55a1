// layernorm(x, w [, b]) = (x - mean) / sqrt(var + EPS) * w (+ b) over the
// last dim: one work-group per row; the mean, then the variance about it,
// reduced in local memory.
__kernel void layernorm_workgroup(KILN_PARAMS) {
  __local float scratch[WG];
  const size_t row = get_group_id(0);
  const uint lid = get_local_id(0);
  const __global STORAGE(IN0_DT)* x = IN(0) + row * IN0_COLS;
  float total = 0.0f;
  for (uint i = lid; i < IN0_COLS; i += WG) total += LOAD(IN0_DT, x, i);
  const float mean = group_sum(total, scratch) / IN0_COLS;
  float squares = 0.0f;
  for (uint i = lid; i < IN0_COLS; i += WG) {
    const float d = LOAD(IN0_DT, x, i) - mean;
    squares += d * d;
  }
  const float inverse_std = rsqrt(group_sum(squares, scratch) / IN0_COLS + EPS);
  __global STORAGE(OUT0_DT)* y = OUT(0) + row * IN0_COLS;
  for (uint i = lid; i < IN0_COLS; i += WG) {
    float v = (LOAD(IN0_DT, x, i) - mean) * inverse_std * LOAD(IN1_DT, IN(1), i);
#if INPUTS == 3
    v += LOAD(IN2_DT, IN(2), i);
#endif
    STORE(OUT0_DT, y, i, v);
  }
}
