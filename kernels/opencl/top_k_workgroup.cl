// top_k(logits[..., V], recent[W]?) {K, PENALTY} -> (ids i32[K], values
// f32[K]) over the last row: the K most likely tokens after the repetition
// penalty (a positive logit of a token in `recent` divided by PENALTY, a
// negative one multiplied; ids < 0 are padding), most likely first, the
// lower id first among equals, NaN as -inf; `values` are the raw logits of
// those ids (the host's sampler recomputes the rest in f64).
//
// One work-group (the sampling op reads one row). The recent ids become a
// bitmap in local memory, so a logit's penalty is one lookup; then K rounds,
// each finding the best candidate ranked after the previous round's pick:
// every work-item scans its share of the row, the group reduces the pairs.
#define BITMAP_WORDS ((IN0_COLS + 31) / 32)

float penalised(const __global float* row, const __local uint* seen, const uint id) {
  float v = row[id];
  if (isnan(v)) return -INFINITY;
#if INPUTS == 2
  if (seen[id >> 5] & (1u << (id & 31))) v = v > 0.0f ? v / (float)PENALTY : v * (float)PENALTY;
#endif
  return v;
}

// (a_value, a_id) ranks before (b_value, b_id).
bool ranks_before(const float a_value, const int a_id, const float b_value, const int b_id) {
  return b_id < 0 || (a_id >= 0 && (a_value > b_value || (a_value == b_value && a_id < b_id)));
}

__kernel void top_k_workgroup(KILN_PARAMS) {
  __local uint seen[BITMAP_WORDS];
  __local float values[WG];
  __local int ids[WG];
  const uint lid = get_local_id(0);
  const __global float* row = IN(0) + (size_t)(IN0_ROWS - 1) * IN0_COLS;
  for (uint w = lid; w < BITMAP_WORDS; w += WG) seen[w] = 0;
  barrier(CLK_LOCAL_MEM_FENCE);
#if INPUTS == 2
  for (uint j = lid; j < IN1_COUNT; j += WG) {
    const int id = IN(1)[j];
    if (id >= 0 && id < IN0_COLS) atomic_or(&seen[id >> 5], 1u << (id & 31));
  }
  barrier(CLK_LOCAL_MEM_FENCE);
#endif
  float last_value = INFINITY;
  int last_id = -1;
  for (int r = 0; r < OUT0_COUNT; ++r) {
    float best_value = -INFINITY;
    int best_id = -1;
    for (uint id = lid; id < IN0_COLS; id += WG) {
      const float v = penalised(row, seen, id);
      const bool after_last = last_id < 0 || v < last_value || (v == last_value && (int)id > last_id);
      if (after_last && ranks_before(v, (int)id, best_value, best_id)) {
        best_value = v;
        best_id = (int)id;
      }
    }
    values[lid] = best_value;
    ids[lid] = best_id;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = WG / 2; s > 0; s >>= 1) {
      if (lid < s && ranks_before(values[lid + s], ids[lid + s], values[lid], ids[lid])) {
        values[lid] = values[lid + s];
        ids[lid] = ids[lid + s];
      }
      barrier(CLK_LOCAL_MEM_FENCE);
    }
    last_value = values[0];
    last_id = ids[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lid == 0) {
      OUT(0)[r] = last_id;
      OUT(1)[r] = last_id >= 0 ? row[last_id] : NAN;
    }
  }
}
