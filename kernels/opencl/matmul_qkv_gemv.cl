// matmul_qkv(x, wq, wk, wv [, bq, bk, bv]) -> (q, k, v) for few rows
// (decode): matmul_gemv's split (prelude.cl's gemv teams; built with
// GEMV_SUBGROUP 1 by matmul_qkv_gemv_subgroup.cl) over the three outputs
// laid end to end, so one dispatch reads x once per work-group and fills
// the device with the three projections; each output is written to its own
// result (split write).
KILN_DEFINE_DOT(1)
KILN_DEFINE_DOT(2)
KILN_DEFINE_DOT(3)

__kernel void GEMV_ENTRY(matmul_qkv)(KILN_PARAMS) {
  __local float scratch[WG];
  const size_t cols_q = OUT0_COLS, cols_k = OUT1_COLS, cols_v = OUT2_COLS, cols = cols_q + cols_k + cols_v;
  const size_t row = gemv_row(cols);
  const __global STORAGE(IN0_DT)* x = IN(0) + row * IN0_COLS;
  GEMV_FOR_EACH_OUTPUT(t) {
    const size_t j = gemv_first_output(cols) + t;
    const uint lane = GEMV_LANE, lanes = GEMV_TEAM_SIZE;
    float acc = 0.0f;
    if (j < cols_q) {
      acc = dot_in1(x, IN(1), j, cols_q, lane, lanes);
    } else if (j < cols_q + cols_k) {
      acc = dot_in2(x, IN(2), j - cols_q, cols_k, lane, lanes);
    } else if (j < cols) {
      acc = dot_in3(x, IN(3), j - cols_q - cols_k, cols_v, lane, lanes);
    }
    acc = GEMV_SUM(acc, scratch);
    if (lane == 0 && j < cols_q) {
#if INPUTS == 7
      acc += LOAD(IN4_DT, IN(4), j);
#endif
      STORE(OUT0_DT, OUT(0), row * cols_q + j, acc);
    } else if (lane == 0 && j < cols_q + cols_k) {
#if INPUTS == 7
      acc += LOAD(IN5_DT, IN(5), j - cols_q);
#endif
      STORE(OUT1_DT, OUT(1), row * cols_k + j - cols_q, acc);
    } else if (lane == 0 && j < cols) {
#if INPUTS == 7
      acc += LOAD(IN6_DT, IN(6), j - cols_q - cols_k);
#endif
      STORE(OUT2_DT, OUT(2), row * cols_v + j - cols_q - cols_k, acc);
    }
  }
}
