// argmax over the last dim, the first index on ties, as i32: one work-group
// per row. Each work-item keeps its best (value, index); the group reduces
// the pairs in local memory.
__kernel void argmax_workgroup(KILN_PARAMS) {
  __local float values[WG];
  __local int indices[WG];
  const size_t row = get_group_id(0);
  const uint lid = get_local_id(0);
  const __global STORAGE(IN0_DT)* x = IN(0) + row * IN0_COLS;
  float best = -INFINITY;
  int at = -1;
  for (uint i = lid; i < IN0_COLS; i += WG) {
    const float v = LOAD(IN0_DT, x, i);
    if (at < 0 || v > best) {
      best = v;
      at = (int)i;
    }
  }
  values[lid] = best;
  indices[lid] = at;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = WG / 2; s > 0; s >>= 1) {
    if (lid < s) {
      const float v = values[lid + s];
      const int j = indices[lid + s];
      const bool better = j >= 0 && (indices[lid] < 0 || v > values[lid] || (v == values[lid] && j < indices[lid]));
      if (better) {
        values[lid] = v;
        indices[lid] = j;
      }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) OUT(0)[row] = indices[0];
}
