// residual_rmsnorm(a, b, g) -> (sum, normed): sum = a + b, rounded to the
// result's dtype and written as result 0; normed = rmsnorm(sum, g) from the
// rounded sums. One work-group per row. Result 0 may be a's storage: each
// work-item reads a[i] before it writes sum[i], and only it touches i.
__kernel void residual_rmsnorm_workgroup(KILN_PARAMS) {
  __local float scratch[WG];
  const size_t row = get_group_id(0);
  const uint lid = get_local_id(0);
  const size_t base = row * IN0_COLS;
  __global STORAGE(OUT0_DT)* sum = OUT(0) + base;
  float squares = 0.0f;
  for (uint i = lid; i < IN0_COLS; i += WG) {
    STORE(OUT0_DT, sum, i, LOAD(IN0_DT, IN(0), base + i) + LOAD(IN1_DT, IN(1), base + i));
    const float v = LOAD(OUT0_DT, sum, i);
    squares += v * v;
  }
  const float inverse_rms = rsqrt(group_sum(squares, scratch) / IN0_COLS + EPS);
  __global STORAGE(OUT1_DT)* y = OUT(1) + base;
  for (uint i = lid; i < IN0_COLS; i += WG) {
    STORE(OUT1_DT, y, i, LOAD(OUT0_DT, sum, i) * inverse_rms * LOAD(IN2_DT, IN(2), i));
  }
}
