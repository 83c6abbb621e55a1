// fused_gate_up(x, w_gate, w_up) = activation(x @ w_gate) * (x @ w_up) for
// few rows (decode): matmul_gemv's split, two dot products per output, the
// gate applied in the epilogue. Each work-group reads only its outputs'
// weight rows: the device fills at one row.
KILN_DEFINE_DOT(1)
KILN_DEFINE_DOT(2)

__kernel void fused_gate_up_gemv(KILN_PARAMS) {
  __local float scratch[WG];
  const size_t n_cols = OUT0_COLS;
  const size_t per_group = WG / LANES;
  const size_t blocks = (n_cols + per_group - 1) / per_group;
  const size_t row = get_group_id(0) / blocks;
  const uint lid = get_local_id(0);
  const size_t n = get_group_id(0) % blocks * per_group + lid / LANES;
  const __global STORAGE(IN0_DT)* x = IN(0) + row * IN0_COLS;
  float gate = n < n_cols ? dot_in1(x, IN(1), n, n_cols, lid % LANES, LANES) : 0.0f;
  float up = n < n_cols ? dot_in2(x, IN(2), n, n_cols, lid % LANES, LANES) : 0.0f;
  gate = lanes_sum(gate, scratch);
  up = lanes_sum(up, scratch);
  if (lid % LANES != 0 || n >= n_cols) return;
  STORE(OUT0_DT, OUT(0), row * n_cols + n, activation(gate) * up);
}
