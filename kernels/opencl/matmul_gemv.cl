// matmul(a, b [, bias]) for few rows (decode): every output of a row is one
// dot product. A work-group computes WG / LANES outputs of one row; with
// TRANSPOSE_B, LANES work-items share each output's weight row (coalesced
// loads, 8 at a time) and sum in local memory. b is 2-D, or carries a's
// batch dims ([..., K, N]).
KILN_DEFINE_DOT(1)

__kernel void matmul_gemv(KILN_PARAMS) {
  __local float scratch[WG];
  const int dims[OUT0_RANK] = OUT0_DIMS;
  const size_t m_rows = dims[OUT0_RANK - 2], n_cols = OUT0_COLS;
  const size_t per_group = WG / LANES;
  const size_t blocks = (n_cols + per_group - 1) / per_group;
  const size_t row = get_group_id(0) / blocks;
  const uint lid = get_local_id(0);
  const size_t n = get_group_id(0) % blocks * per_group + lid / LANES;
  const __global STORAGE(IN1_DT)* w = IN(1) + (IN1_RANK > 2 ? row / m_rows * IN0_COLS * n_cols : 0);
  float acc = n < n_cols ? dot_in1(IN(0) + row * IN0_COLS, w, n, n_cols, lid % LANES, LANES) : 0.0f;
  acc = lanes_sum(acc, scratch);
  if (lid % LANES != 0 || n >= n_cols) return;
#if INPUTS == 3
  acc += LOAD(IN2_DT, IN(2), n);
#endif
  STORE(OUT0_DT, OUT(0), row * n_cols + n, acc);
}
