// rmsnorm(x, w) = x / sqrt(mean(x^2) + EPS) * w over the last dim: one
// work-group per row, the sum of squares reduced in local memory.
__kernel void rmsnorm_workgroup(KILN_PARAMS) {
  __local float scratch[WG];
  const size_t row = get_group_id(0);
  const uint lid = get_local_id(0);
  const __global STORAGE(IN0_DT)* x = IN(0) + row * IN0_COLS;
  float squares = 0.0f;
  for (uint i = lid; i < IN0_COLS; i += WG) {
    const float v = LOAD(IN0_DT, x, i);
    squares += v * v;
  }
  const float inverse_rms = rsqrt(group_sum(squares, scratch) / IN0_COLS + EPS);
  __global STORAGE(OUT0_DT)* y = OUT(0) + row * IN0_COLS;
  for (uint i = lid; i < IN0_COLS; i += WG) {
    STORE(OUT0_DT, y, i, LOAD(IN0_DT, x, i) * inverse_rms * LOAD(IN1_DT, IN(1), i));
  }
}
