// fused_gate_up(x, w_gate, w_up) = activation(x @ w_gate) * (x @ w_up) for
// many rows (prefill): matmul_tiled's blocks, both products per block, the
// gate applied in the epilogue.
KILN_DEFINE_TILE(1)
KILN_DEFINE_TILE(2)

__kernel void fused_gate_up_tiled(KILN_PARAMS) {
  __local float as[TILE * (TILE + 1)];
  __local float bs[TILE * (TILE + 1)];
  const size_t m_rows = OUT0_ROWS, n_cols = OUT0_COLS;
  const size_t tiles_n = (n_cols + TILE - 1) / TILE;
  const size_t tm = get_group_id(0) / tiles_n, tn = get_group_id(0) % tiles_n;
  const float gate = tile_in1(as, bs, IN(0), IN(1), m_rows, n_cols, tm, tn);
  const float up = tile_in2(as, bs, IN(0), IN(2), m_rows, n_cols, tm, tn);
  const size_t m = tm * TILE + get_local_id(0) / TILE, n = tn * TILE + get_local_id(0) % TILE;
  if (m >= m_rows || n >= n_cols) return;
  STORE(OUT0_DT, OUT(0), m * n_cols + n, activation(gate) * up);
}
