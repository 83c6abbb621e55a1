// softmax over the last dim, shifted by the row's max: one work-group per
// row, max and sum reduced in local memory.
__kernel void softmax_workgroup(KILN_PARAMS) {
  __local float scratch[WG];
  const size_t row = get_group_id(0);
  const uint lid = get_local_id(0);
  const __global STORAGE(IN0_DT)* x = IN(0) + row * IN0_COLS;
  float top = -INFINITY;
  for (uint i = lid; i < IN0_COLS; i += WG) top = fmax(top, LOAD(IN0_DT, x, i));
  top = group_max(top, scratch);
  float total = 0.0f;
  for (uint i = lid; i < IN0_COLS; i += WG) total += exp(LOAD(IN0_DT, x, i) - top);
  const float inverse_total = 1.0f / group_sum(total, scratch);
  __global STORAGE(OUT0_DT)* y = OUT(0) + row * IN0_COLS;
  for (uint i = lid; i < IN0_COLS; i += WG) STORE(OUT0_DT, y, i, exp(LOAD(IN0_DT, x, i) - top) * inverse_total);
}
