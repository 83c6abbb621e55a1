// top_k(logits[..., V], recent[W]?) {K, PENALTY} -> (ids i32[K], values
// f32[K]) exactly as top_k_workgroup.cl computes it (the K most likely
// tokens of the last row after the repetition penalty, most likely first,
// the lower id first among equals, NaN as -inf; `values` the raw logits of
// those ids), with the row split across work-groups so a long vocabulary
// fills the device: one work-group per TOP_K_SLICE logits (126 for a
// 128,256-entry vocabulary; kernels/opencl/kernel_table.cc launches to
// match).
//
// Each work-group ranks its slice's best min(K, TOP_K_SLICE) candidates, in
// order, into its list in the dispatch's scratch (SCRATCH, docs/opencl.md)
// and counts itself done with atomic_inc; the last to finish merges the
// sorted lists (K rounds, each taking the best list head) into the outputs
// and resets the counter to 0 for the next step. The top K of the row are
// among the top K of its slices, and the order is total (value, then id),
// so the result is the reference's, bit for bit.
//
// A round (in both phases) is two barriers: every work-item publishes its
// own best remaining candidate, PARTS work-items each reduce a share of
// them, every work-item reduces the PARTS; only the work-item whose
// candidate won looks for its next one. Every barrier is in control flow
// uniform across the work-group, and none follows a return: PoCL 3.1 lost
// local-memory stores made after `if (!is_last) return;`.
//
// The scratch, as uints: a counter padded to 16 bytes, then per work-group
// PER_LIST (value bits, id) pairs, an id of -1 ending a short list. The
// host zero-fills it once. Scratch is read and written through volatile
// pointers, so the last work-group's reads go to memory, not a stale cache.
#define TOP_K_SLICE 1024
#define GROUPS ((IN0_COLS + TOP_K_SLICE - 1) / TOP_K_SLICE)
#define PER_LIST (OUT0_COUNT < TOP_K_SLICE ? OUT0_COUNT : TOP_K_SLICE)
#define PARTS (WG < 16 ? WG : 16)

// (a_value, a_id) ranks before (b_value, b_id); an id < 0 is no candidate.
bool ranks_before(const float a_value, const int a_id, const float b_value, const int b_id) {
  return b_id < 0 || (a_id >= 0 && (a_value > b_value || (a_value == b_value && a_id < b_id)));
}

// The best of every work-item's published candidate, the same in every
// work-item. Every work-item calls it after publishing.
void round_winner(const __local float* lane_value, const __local int* lane_id, __local float* part_value,
                  __local int* part_id, float* value, int* id) {
  const uint lid = get_local_id(0);
  const uint per = WG / PARTS;
  barrier(CLK_LOCAL_MEM_FENCE);
  if (lid < PARTS) {
    float v = lane_value[lid * per];
    int i = lane_id[lid * per];
    for (uint j = lid * per + 1; j < (lid + 1) * per; ++j) {
      if (ranks_before(lane_value[j], lane_id[j], v, i)) {
        v = lane_value[j];
        i = lane_id[j];
      }
    }
    part_value[lid] = v;
    part_id[lid] = i;
  }
  barrier(CLK_LOCAL_MEM_FENCE);
  float best_value = part_value[0];
  int best_id = part_id[0];
  for (uint p = 1; p < PARTS; ++p) {
    if (ranks_before(part_value[p], part_id[p], best_value, best_id)) {
      best_value = part_value[p];
      best_id = part_id[p];
    }
  }
  *value = best_value;
  *id = best_id;
}

// This work-item's best slice element ranked after (after_value, after_id)
// (after_id < 0: the best).
void best_in_slice(const __local float* slice_value, const uint first, const uint count, const float after_value,
                   const int after_id, float* value, int* id) {
  float best_value = -INFINITY;
  int best_id = -1;
  for (uint j = get_local_id(0); j < count; j += WG) {
    const float v = slice_value[j];
    const int c = (int)(first + j);
    if ((after_id < 0 || ranks_before(after_value, after_id, v, c)) && ranks_before(v, c, best_value, best_id)) {
      best_value = v;
      best_id = c;
    }
  }
  *value = best_value;
  *id = best_id;
}

// This work-item's best list head over the lists it owns (list % WG == lid).
void best_head(volatile const __global uint* lists, const __local uint* heads, float* value, int* id) {
  float best_value = -INFINITY;
  int best_id = -1;
  for (uint list = get_local_id(0); list < GROUPS; list += WG) {
    if (heads[list] >= PER_LIST) continue;
    const uint at = (list * PER_LIST + heads[list]) * 2;
    const float v = as_float(lists[at]);
    const int c = (int)lists[at + 1];
    if (ranks_before(v, c, best_value, best_id)) {
      best_value = v;
      best_id = c;
    }
  }
  *value = best_value;
  *id = best_id;
}

__kernel void top_k_split(KILN_PARAMS) {
  __local float slice_value[TOP_K_SLICE];  // penalised; element j is work-item j % WG's
  __local float lane_value[WG];            // each work-item's best remaining candidate
  __local int lane_id[WG];
  __local float part_value[PARTS];
  __local int part_id[PARTS];
  __local uint heads[GROUPS];  // the merge: candidates taken from each list
  __local int is_last;
#if INPUTS == 2
  __local uint seen[TOP_K_SLICE / 32];  // the slice's ids in `recent`
#endif
  const uint lid = get_local_id(0);
  const uint group = get_group_id(0);
  const __global float* row = IN(0) + (size_t)(IN0_ROWS - 1) * IN0_COLS;
  const uint first = group * TOP_K_SLICE;
  const uint count = min((uint)TOP_K_SLICE, (uint)IN0_COLS - first);
  volatile __global uint* counter = (volatile __global uint*)SCRATCH;
  volatile __global uint* lists = (volatile __global uint*)SCRATCH + 4;
  for (uint l = lid; l < GROUPS; l += WG) heads[l] = 0;  // for the merge
#if INPUTS == 2
  for (uint w = lid; w < TOP_K_SLICE / 32; w += WG) seen[w] = 0;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint j = lid; j < IN1_COUNT; j += WG) {
    const int id = IN(1)[j];
    if (id >= (int)first && id < (int)(first + count)) {
      const uint at = (uint)id - first;
      atomic_or(&seen[at >> 5], 1u << (at & 31));
    }
  }
  barrier(CLK_LOCAL_MEM_FENCE);
#endif
  // Phase 1: this slice's best PER_LIST candidates, into its list.
  float mine_value = -INFINITY;
  int mine_id = -1;
  for (uint j = lid; j < count; j += WG) {
    float v = row[first + j];
    if (isnan(v)) v = -INFINITY;
#if INPUTS == 2
    else if (seen[j >> 5] & (1u << (j & 31))) v = v > 0.0f ? v / (float)PENALTY : v * (float)PENALTY;
#endif
    slice_value[j] = v;  // read back only by this work-item
    if (ranks_before(v, (int)(first + j), mine_value, mine_id)) {
      mine_value = v;
      mine_id = (int)(first + j);
    }
  }
  lane_value[lid] = mine_value;
  lane_id[lid] = mine_id;
  volatile __global uint* list = lists + group * PER_LIST * 2;
  // A slice shorter than its list ends it with the -1 its last round finds.
  const uint rounds = min((uint)PER_LIST, count + 1);
  for (uint r = 0; r < rounds; ++r) {
    float value;
    int id;
    round_winner(lane_value, lane_id, part_value, part_id, &value, &id);
    if (lid == 0) {
      list[2 * r] = as_uint(value);
      list[2 * r + 1] = (uint)id;
    }
    if (id >= 0 && id == mine_id) {
      best_in_slice(slice_value, first, count, value, id, &mine_value, &mine_id);
      lane_value[lid] = mine_value;
      lane_id[lid] = mine_id;
    }
  }
  // Work-item 0 wrote the list: its fence orders those writes before its
  // count; the last work-group fences again before reading the lists.
  if (lid == 0) {
    mem_fence(CLK_GLOBAL_MEM_FENCE);
    is_last = atomic_inc(counter) + 1 == GROUPS;
  }
  barrier(CLK_LOCAL_MEM_FENCE);
  if (is_last) {  // the same in every work-item: read from local memory
    mem_fence(CLK_GLOBAL_MEM_FENCE);
    // Phase 2: merge the lists, K rounds over their heads.
    best_head(lists, heads, &mine_value, &mine_id);
    lane_value[lid] = mine_value;
    lane_id[lid] = mine_id;
    for (uint r = 0; r < OUT0_COUNT; ++r) {
      float value;
      int id;
      round_winner(lane_value, lane_id, part_value, part_id, &value, &id);
      if (lid == 0) {
        OUT(0)[r] = id;
        OUT(1)[r] = id >= 0 ? row[id] : NAN;
      }
      if (id >= 0 && id == mine_id) {
        heads[(uint)id / TOP_K_SLICE] += 1;  // this work-item's list
        best_head(lists, heads, &mine_value, &mine_id);
        lane_value[lid] = mine_value;
        lane_id[lid] = mine_id;
      }
    }
    if (lid == 0) atomic_xchg(counter, 0);
  }
}
