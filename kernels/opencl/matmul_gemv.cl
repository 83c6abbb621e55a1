// matmul(a, b [, bias]) for few rows (decode): every output of a row is one
// dot product. A work-group computes GEMV_OUTPUTS outputs of one row, a
// team of work-items each (prelude.cl: LANES work-items summed in local
// memory, or a subgroup in matmul_gemv_subgroup.cl, which builds this file
// with GEMV_SUBGROUP 1); with TRANSPOSE_B a team's lanes share the output's
// weight row (coalesced loads, 8 at a time). b is 2-D, or carries a's batch
// dims ([..., K, N]).
KILN_DEFINE_DOT(1)

__kernel void GEMV_ENTRY(matmul)(KILN_PARAMS) {
  __local float scratch[WG];
  const int dims[OUT0_RANK] = OUT0_DIMS;
  const size_t m_rows = dims[OUT0_RANK - 2], n_cols = OUT0_COLS;
  const size_t row = gemv_row(n_cols);
  const __global STORAGE(IN0_DT)* x = IN(0) + row * IN0_COLS;
  const __global STORAGE(IN1_DT)* w = IN(1) + (IN1_RANK > 2 ? row / m_rows * IN0_COLS * n_cols : 0);
  GEMV_FOR_EACH_OUTPUT(t) {
    const size_t n = gemv_first_output(n_cols) + t;
    float acc = n < n_cols ? dot_in1(x, w, n, n_cols, GEMV_LANE, GEMV_TEAM_SIZE) : 0.0f;
    acc = GEMV_SUM(acc, scratch);
    if (GEMV_LANE == 0 && n < n_cols) {
#if INPUTS == 3
      acc += LOAD(IN2_DT, IN(2), n);
#endif
      STORE(OUT0_DT, OUT(0), row * n_cols + n, acc);
    }
  }
}
