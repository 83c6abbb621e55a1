// rmsnorm_gate_up(x, g, w_gate, w_up) = act(n @ w_gate) * (n @ w_up), n =
// rmsnorm(x, g), for few rows (decode): fused_gate_up_gemv's split
// (prelude.cl's gemv teams; built with GEMV_SUBGROUP 1 by
// rmsnorm_gate_up_gemv_subgroup.cl) with the norm in the prologue: one pass
// over x gives both products and the sum of squares (KILN_DEFINE_NORM_DOT),
// summed by the team at once; both products are scaled by 1 / rms before
// the gate.
KILN_DEFINE_NORM_DOT(2, 3)

__kernel void GEMV_ENTRY(rmsnorm_gate_up)(KILN_PARAMS) {
  __local float4 scratch[WG];
  const size_t n_cols = OUT0_COLS;
  const size_t row = gemv_row(n_cols);
  const __global STORAGE(IN0_DT)* x = IN(0) + row * IN0_COLS;
  GEMV_FOR_EACH_OUTPUT(t) {
    const size_t n = gemv_first_output(n_cols) + t;
    float4 acc = n < n_cols ? norm_dot_in2_in3(x, IN(1), IN(2), n, IN(3), n, true, n_cols, GEMV_LANE, GEMV_TEAM_SIZE)
                            : (float4)(0.0f);
    acc = GEMV_SUM4(acc, scratch);
    if (GEMV_LANE == 0 && n < n_cols) {
      const float scale = norm_scale(acc.z);
      STORE(OUT0_DT, OUT(0), row * n_cols + n, activation(acc.x * scale) * (acc.y * scale));
    }
  }
}
