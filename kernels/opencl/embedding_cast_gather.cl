// embedding_cast(table[V, D], ids[...]) {dtype} -> [..., D]: embedding_gather
// converting each element to the result's dtype as it copies it (through
// f32, exact for every table dtype). One work-item per result element; an id
// outside [0, V) gives a row of zeros.
__kernel void embedding_cast_gather(KILN_PARAMS) {
  const size_t i = get_global_id(0);
  if (i >= OUT0_COUNT) return;
  const int id = IN(1)[i / IN0_COLS];
  const size_t col = i % IN0_COLS;
  const float value = id >= 0 && id < IN0_D0 ? LOAD(IN0_DT, IN(0), (size_t)id * IN0_COLS + col) : 0.0f;
  STORE(OUT0_DT, OUT(0), i, value);
}
