// matmul(a, b [, bias]) for many rows (prefill, batched products): one
// TILE x TILE block of outputs per work-group, staged through local memory.
// b is 2-D, or carries a's batch dims ([..., K, N]).
KILN_DEFINE_TILE(1)

__kernel void matmul_tiled(KILN_PARAMS) {
  __local float as[TILE * (TILE + 1)];
  __local float bs[TILE * (TILE + 1)];
  const int dims[OUT0_RANK] = OUT0_DIMS;
  const size_t m_rows = dims[OUT0_RANK - 2], n_cols = OUT0_COLS;
  const size_t tiles_m = (m_rows + TILE - 1) / TILE, tiles_n = (n_cols + TILE - 1) / TILE;
  const size_t g = get_group_id(0);
  const size_t batch = g / (tiles_m * tiles_n), tm = g / tiles_n % tiles_m, tn = g % tiles_n;
  const __global STORAGE(IN1_DT)* w = IN(1) + (IN1_RANK > 2 ? batch * IN0_COLS * n_cols : 0);
  const float acc = tile_in1(as, bs, IN(0) + batch * m_rows * IN0_COLS, w, m_rows, n_cols, tm, tn);
  const size_t m = tm * TILE + get_local_id(0) / TILE, n = tn * TILE + get_local_id(0) % TILE;
  if (m >= m_rows || n >= n_cols) return;
#if INPUTS == 3
  STORE(OUT0_DT, OUT(0), (batch * m_rows + m) * n_cols + n, acc + LOAD(IN2_DT, IN(2), n));
#else
  STORE(OUT0_DT, OUT(0), (batch * m_rows + m) * n_cols + n, acc);
#endif
}
