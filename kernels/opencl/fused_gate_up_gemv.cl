// fused_gate_up(x, w_gate, w_up) = activation(x @ w_gate) * (x @ w_up) for
// few rows (decode): matmul_gemv's split (prelude.cl's gemv teams; built
// with GEMV_SUBGROUP 1 by fused_gate_up_gemv_subgroup.cl), two dot products
// per output, the gate applied in the epilogue. Each work-group reads only
// its outputs' weight rows: the device fills at one row.
KILN_DEFINE_DOT(1)
KILN_DEFINE_DOT(2)

__kernel void GEMV_ENTRY(fused_gate_up)(KILN_PARAMS) {
  __local float scratch[WG];
  const size_t n_cols = OUT0_COLS;
  const size_t row = gemv_row(n_cols);
  const __global STORAGE(IN0_DT)* x = IN(0) + row * IN0_COLS;
  GEMV_FOR_EACH_OUTPUT(t) {
    const size_t n = gemv_first_output(n_cols) + t;
    float gate = n < n_cols ? dot_in1(x, IN(1), n, n_cols, GEMV_LANE, GEMV_TEAM_SIZE) : 0.0f;
    float up = n < n_cols ? dot_in2(x, IN(2), n, n_cols, GEMV_LANE, GEMV_TEAM_SIZE) : 0.0f;
    gate = GEMV_SUM(gate, scratch);
    up = GEMV_SUM(up, scratch);
    if (GEMV_LANE == 0 && n < n_cols) STORE(OUT0_DT, OUT(0), row * n_cols + n, activation(gate) * up);
  }
}
