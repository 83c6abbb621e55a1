// matmul_residual(x, w, residual) = x @ w + residual for few rows (decode):
// matmul_gemv's split (prelude.cl's gemv teams; built with GEMV_SUBGROUP 1
// by matmul_residual_gemv_subgroup.cl), the residual added in the epilogue.
// The result may be the residual's own storage: each element is read and
// then written by the one work-item that computes it.
KILN_DEFINE_DOT(1)

__kernel void GEMV_ENTRY(matmul_residual)(KILN_PARAMS) {
  __local float scratch[WG];
  const size_t n_cols = OUT0_COLS;
  const size_t row = gemv_row(n_cols);
  const __global STORAGE(IN0_DT)* x = IN(0) + row * IN0_COLS;
  GEMV_FOR_EACH_OUTPUT(t) {
    const size_t n = gemv_first_output(n_cols) + t;
    float acc = n < n_cols ? dot_in1(x, IN(1), n, n_cols, GEMV_LANE, GEMV_TEAM_SIZE) : 0.0f;
    acc = GEMV_SUM(acc, scratch);
    if (GEMV_LANE == 0 && n < n_cols) {
      const size_t at = row * n_cols + n;
      STORE(OUT0_DT, OUT(0), at, acc + LOAD(IN2_DT, IN(2), at));
    }
  }
}
