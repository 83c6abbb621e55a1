// residual_layernorm(a, b, g [, beta]) -> (sum, normed): sum = a + b,
// rounded to the result's dtype and written as result 0; normed =
// layernorm(sum, g (, beta)) from the rounded sums. One work-group per row;
// result 0 may be a's storage (each work-item reads a[i] before it writes
// sum[i]).
__kernel void residual_layernorm_workgroup(KILN_PARAMS) {
  __local float scratch[WG];
  const size_t row = get_group_id(0);
  const uint lid = get_local_id(0);
  const size_t base = row * IN0_COLS;
  __global STORAGE(OUT0_DT)* sum = OUT(0) + base;
  float total = 0.0f;
  for (uint i = lid; i < IN0_COLS; i += WG) {
    STORE(OUT0_DT, sum, i, LOAD(IN0_DT, IN(0), base + i) + LOAD(IN1_DT, IN(1), base + i));
    total += LOAD(OUT0_DT, sum, i);
  }
  const float mean = group_sum(total, scratch) / IN0_COLS;
  float squares = 0.0f;
  for (uint i = lid; i < IN0_COLS; i += WG) {
    const float d = LOAD(OUT0_DT, sum, i) - mean;
    squares += d * d;
  }
  const float inverse_std = rsqrt(group_sum(squares, scratch) / IN0_COLS + EPS);
  __global STORAGE(OUT1_DT)* y = OUT(1) + base;
  for (uint i = lid; i < IN0_COLS; i += WG) {
    float v = (LOAD(OUT0_DT, sum, i) - mean) * inverse_std * LOAD(IN2_DT, IN(2), i);
#if INPUTS == 4
    v += LOAD(IN3_DT, IN(3), i);
#endif
    STORE(OUT1_DT, y, i, v);
  }
}
