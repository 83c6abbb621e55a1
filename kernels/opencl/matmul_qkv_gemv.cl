// matmul_qkv(x, wq, wk, wv [, bq, bk, bv]) -> (q, k, v) for few rows
// (decode): matmul_gemv's split over the three outputs laid end to end, so
// one dispatch reads x once per work-group and fills the device with the
// three projections; each output is written to its own result (split
// write).
KILN_DEFINE_DOT(1)
KILN_DEFINE_DOT(2)
KILN_DEFINE_DOT(3)

__kernel void matmul_qkv_gemv(KILN_PARAMS) {
  __local float scratch[WG];
  const size_t NQ = OUT0_COLS, NK = OUT1_COLS, NV = OUT2_COLS;
  const size_t per_group = WG / LANES;
  const size_t blocks = (NQ + NK + NV + per_group - 1) / per_group;
  const size_t row = get_group_id(0) / blocks;
  const uint lid = get_local_id(0);
  const size_t j = get_group_id(0) % blocks * per_group + lid / LANES;
  const __global STORAGE(IN0_DT)* x = IN(0) + row * IN0_COLS;
  const uint lane = lid % LANES;
  float acc = 0.0f;
  if (j < NQ) {
    acc = dot_in1(x, IN(1), j, NQ, lane, LANES);
  } else if (j < NQ + NK) {
    acc = dot_in2(x, IN(2), j - NQ, NK, lane, LANES);
  } else if (j < NQ + NK + NV) {
    acc = dot_in3(x, IN(3), j - NQ - NK, NV, lane, LANES);
  }
  acc = lanes_sum(acc, scratch);
  if (lane != 0) return;
  if (j < NQ) {
#if INPUTS == 7
    acc += LOAD(IN4_DT, IN(4), j);
#endif
    STORE(OUT0_DT, OUT(0), row * NQ + j, acc);
  } else if (j < NQ + NK) {
#if INPUTS == 7
    acc += LOAD(IN5_DT, IN(5), j - NQ);
#endif
    STORE(OUT1_DT, OUT(1), row * NK + j - NQ, acc);
  } else if (j < NQ + NK + NV) {
#if INPUTS == 7
    acc += LOAD(IN6_DT, IN(6), j - NQ - NK);
#endif
    STORE(OUT2_DT, OUT(2), row * NV + j - NQ - NK, acc);
  }
}
