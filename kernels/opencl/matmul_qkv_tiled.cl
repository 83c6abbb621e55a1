// matmul_qkv(x, wq, wk, wv [, bq, bk, bv]) -> (q, k, v) for many rows
// (prefill): matmul_tiled's blocks over the three outputs' column tiles laid
// end to end; each block is written to its own result (split write). No
// work-item leaves before the last barrier: every branch is uniform per
// work-group, and the stores come last.
KILN_DEFINE_TILE(1)
KILN_DEFINE_TILE(2)
KILN_DEFINE_TILE(3)

__kernel void matmul_qkv_tiled(KILN_PARAMS) {
  __local float as[TILE * (TILE + 1)];
  __local float bs[TILE * (TILE + 1)];
  const size_t m_rows = OUT0_ROWS, cols_q = OUT0_COLS, cols_k = OUT1_COLS, cols_v = OUT2_COLS;
  const size_t tq = (cols_q + TILE - 1) / TILE, tk = (cols_k + TILE - 1) / TILE, tv = (cols_v + TILE - 1) / TILE;
  const size_t tiles_n = tq + tk + tv;
  const size_t tm = get_group_id(0) / tiles_n, t = get_group_id(0) % tiles_n;
  const size_t m = tm * TILE + get_local_id(0) / TILE;
  const uint tx = get_local_id(0) % TILE;
  float acc;
  size_t n;
  if (t < tq) {
    acc = tile_in1(as, bs, IN(0), IN(1), m_rows, cols_q, tm, t);
    n = t * TILE + tx;
  } else if (t < tq + tk) {
    acc = tile_in2(as, bs, IN(0), IN(2), m_rows, cols_k, tm, t - tq);
    n = (t - tq) * TILE + tx;
  } else {
    acc = tile_in3(as, bs, IN(0), IN(3), m_rows, cols_v, tm, t - tq - tk);
    n = (t - tq - tk) * TILE + tx;
  }
  if (m >= m_rows) return;
  if (t < tq && n < cols_q) {
#if INPUTS == 7
    acc += LOAD(IN4_DT, IN(4), n);
#endif
    STORE(OUT0_DT, OUT(0), m * cols_q + n, acc);
  } else if (t >= tq && t < tq + tk && n < cols_k) {
#if INPUTS == 7
    acc += LOAD(IN5_DT, IN(5), n);
#endif
    STORE(OUT1_DT, OUT(1), m * cols_k + n, acc);
  } else if (t >= tq + tk && n < cols_v) {
#if INPUTS == 7
    acc += LOAD(IN6_DT, IN(6), n);
#endif
    STORE(OUT2_DT, OUT(2), m * cols_v + n, acc);
  }
}
