// embedding(table[V, D], ids[...]) -> [..., D]: row ids[r] of the table for
// each id, copied bit for bit (the result has the table's dtype). One
// work-item per result element. A kernel cannot fail: an id outside [0, V)
// gives a row of zeros.
__kernel void embedding_gather(KILN_PARAMS) {
  const size_t i = get_global_id(0);
  if (i >= OUT0_COUNT) return;
  const int id = IN(1)[i / IN0_COLS];
  const size_t col = i % IN0_COLS;
  OUT(0)[i] = id >= 0 && id < IN0_D0 ? IN(0)[(size_t)id * IN0_COLS + col] : 0;
}
