// rmsnorm_matmul(x, g, w) = rmsnorm(x, g) @ w for few rows (decode):
// matmul_gemv's split (prelude.cl's gemv teams; built with GEMV_SUBGROUP 1
// by rmsnorm_matmul_gemv_subgroup.cl) with the norm in the prologue: each
// team reads its whole row of x anyway, so it sums x^2 beside its dot
// product (KILN_DEFINE_NORM_DOT) and scales the product by 1 / rms.
KILN_DEFINE_NORM_DOT(2, 2)

__kernel void GEMV_ENTRY(rmsnorm_matmul)(KILN_PARAMS) {
  __local float4 scratch[WG];
  const size_t n_cols = OUT0_COLS;
  const size_t row = gemv_row(n_cols);
  const __global STORAGE(IN0_DT)* x = IN(0) + row * IN0_COLS;
  GEMV_FOR_EACH_OUTPUT(t) {
    const size_t n = gemv_first_output(n_cols) + t;
    float4 acc = n < n_cols ? norm_dot_in2_in2(x, IN(1), IN(2), n, IN(2), n, false, n_cols, GEMV_LANE, GEMV_TEAM_SIZE)
                            : (float4)(0.0f);
    acc = GEMV_SUM4(acc, scratch);
    if (GEMV_LANE == 0 && n < n_cols) STORE(OUT0_DT, OUT(0), row * n_cols + n, acc.x * norm_scale(acc.z));
  }
}
