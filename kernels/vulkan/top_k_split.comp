#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#extension GL_EXT_control_flow_attributes : require
// top_k(logits[..., V], recent[W]?) {k, penalty} -> (ids i32[k], values
// f32[k]) exactly as top_k_reference.comp computes it (the k most likely
// tokens of the last row after the repetition penalty, most likely first,
// the lower id first among equals, NaN as -inf; `values` the raw logits of
// those ids), with the row split across workgroups so a long vocabulary
// fills the device: one workgroup per KILN_VULKAN_TOP_K_SLICE logits
// (kernels/vulkan/shapes.h; 126 for a 128,256-entry vocabulary).
//
// Each workgroup ranks its slice's best min(k, slice) candidates, in order,
// into its list in the dispatch's scratch and counts itself done; the last
// to finish merges the sorted lists (k rounds, each taking the best list
// head) into the outputs and resets the counter to 0 for the next step.
// The top k of the row are among the top k of its slices, and the order is
// total (value, then id), so the result is the reference's, bit for bit.
//
// A round (in both phases) is two barriers: every invocation publishes its
// own best remaining candidate, 16 invocations each reduce a sixteenth of
// them, every invocation reduces the 16; only the invocation whose
// candidate won looks for its next one. wg_size is a multiple of 16. Every
// barrier is in control flow uniform across the workgroup, and none follows
// a return (the merge is inside `if (is_last)`).
//
// A round's own loops have fixed counts and are unrolled, so a round costs
// one loop iteration: lavapipe (llvmpipe) silently ends every loop of an
// invocation once its loops together have run 65,535 iterations
// (LP_MAX_TGSI_LOOP_ITERATIONS, Mesa 22.3). When a round cost about 18
// (its 15-iteration reduction loops), the merge of k = 2,500 stopped after
// 2,472 rounds, its last outputs never written, whenever the workgroup
// that merged had a full slice (1,024 rounds before the merge); which one
// merges is the order they finish in. Now 1,024 + k iterations: k up to
// about 64,000 on lavapipe, whichever workgroup merges.
//
// The scratch: a counter padded to 16 bytes, then per workgroup
// min(k, slice) (value bits, id) pairs, an id of -1 ending a short list.
// The plugin zero-fills it once (kernel_table.cc, top_k_scratch).
#include "kernels/vulkan/shapes.h"
EXTENT(in0_rows, 10)
layout(constant_id = 12) const int in0_cols = 1;
layout(constant_id = 13) const int in1_cols = 0;  // the recent window W; 0 without the input
layout(constant_id = 14) const int k = 1;
layout(constant_id = 15) const float penalty = 1.0;

layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer Scratch { uint v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer Counter { uint n; };

const uint kSlice = uint(KILN_VULKAN_TOP_K_SLICE);
const int kGroups = (in0_cols + KILN_VULKAN_TOP_K_SLICE - 1) / KILN_VULKAN_TOP_K_SLICE;
const uint kParts = 16u;
const uint kPer = uint(wg_size) / kParts;                                       // candidates per part
const uint kPerLane = (uint(KILN_VULKAN_TOP_K_SLICE) + uint(wg_size) - 1u) / uint(wg_size);  // slice elements
const uint kListsPerLane = (uint(kGroups) + uint(wg_size) - 1u) / uint(wg_size);          // merged lists
shared float slice_value[KILN_VULKAN_TOP_K_SLICE];  // penalised; element j is invocation j % wg_size's
shared uint seen[KILN_VULKAN_TOP_K_SLICE / 32];     // the slice's ids in `recent`
shared float lane_value[wg_size];                   // each invocation's best remaining candidate
shared int lane_id[wg_size];
shared float part_value[kParts];
shared int part_id[kParts];
shared uint heads[kGroups];  // the merge: candidates taken from each list
shared bool is_last;

// (a_value, a_id) ranks before (b_value, b_id); an id < 0 is no candidate.
bool ranks_before(float a_value, int a_id, float b_value, int b_id) {
  return b_id < 0 || (a_id >= 0 && (a_value > b_value || (a_value == b_value && a_id < b_id)));
}

// Candidates per list: a slice has at most kSlice.
uint per_list() { return min(uint(k), kSlice); }

// The best of every invocation's published candidate, the same in every
// invocation. Every invocation calls it after publishing.
void round_winner(uint lane, out float value, out int id) {
  barrier();
  if (lane < kParts) {
    uint at = lane * kPer;
    float v = lane_value[at];
    int i = lane_id[at];
    [[unroll]] for (uint j = 1u; j < kPer; ++j) {
      if (ranks_before(lane_value[at + j], lane_id[at + j], v, i)) {
        v = lane_value[at + j];
        i = lane_id[at + j];
      }
    }
    part_value[lane] = v;
    part_id[lane] = i;
  }
  barrier();
  value = part_value[0];
  id = part_id[0];
  [[unroll]] for (uint p = 1u; p < kParts; ++p) {
    if (ranks_before(part_value[p], part_id[p], value, id)) {
      value = part_value[p];
      id = part_id[p];
    }
  }
}

float penalised(uint base, uint first, uint j) {
  float v = load(IN(0), DT_F32, base + first + j);
  if (isnan(v)) return -1.0 / 0.0;
  if (num_inputs == 2 && (seen[j >> 5] & (1u << (j & 31u))) != 0u) v = v > 0.0 ? v / penalty : v * penalty;
  return v;
}

// This invocation's best slice element ranked after (after_value, after_id)
// (after_id < 0: the best).
void best_in_slice(uint lane, uint first, uint count, float after_value, int after_id, out float value, out int id) {
  value = -1.0 / 0.0;
  id = -1;
  [[unroll]] for (uint n = 0u; n < kPerLane; ++n) {
    uint j = lane + n * uint(wg_size);
    float v = slice_value[min(j, kSlice - 1u)];
    int c = int(first + j);
    if (j < count && (after_id < 0 || ranks_before(after_value, after_id, v, c)) && ranks_before(v, c, value, id)) {
      value = v;
      id = c;
    }
  }
}

// Candidate |index| of list |list|; (-inf, -1) past its end.
void list_candidate(Scratch scratch, uint list, uint index, out float value, out int id) {
  value = -1.0 / 0.0;
  id = -1;
  if (index >= per_list()) return;
  uint at = 4u + (list * per_list() + index) * 2u;
  value = uintBitsToFloat(scratch.v[at]);
  id = int(scratch.v[at + 1u]);
}

// This invocation's best list head over the lists it owns (list % wg_size == lane).
void best_head(Scratch scratch, uint lane, out float value, out int id) {
  value = -1.0 / 0.0;
  id = -1;
  [[unroll]] for (uint n = 0u; n < kListsPerLane; ++n) {
    uint list = lane + n * uint(wg_size);
    if (list < uint(kGroups)) {
      float v;
      int c;
      list_candidate(scratch, list, heads[list], v, c);
      if (ranks_before(v, c, value, id)) {
        value = v;
        id = c;
      }
    }
  }
}

void main() {
  uint g = group_index();
  if (g >= uint(kGroups)) return;
  uint lane = gl_LocalInvocationID.x;
  uint cols = uint(in0_cols);
  uint base = (EXT(in0_rows) - 1u) * cols;
  uint first = g * kSlice, count = min(kSlice, cols - first);
  for (uint l = lane; l < uint(kGroups); l += uint(wg_size)) heads[l] = 0u;  // for the merge
  if (num_inputs == 2) {
    for (uint w = lane; w < kSlice / 32u; w += uint(wg_size)) seen[w] = 0u;
    barrier();
    for (uint j = lane; j < uint(in1_cols); j += uint(wg_size)) {
      int id = load_int(IN(1), j);
      if (id >= int(first) && id < int(first + count)) {
        uint at = uint(id) - first;
        atomicOr(seen[at >> 5], 1u << (at & 31u));
      }
    }
    barrier();
  }
  // Phase 1: this slice's best per_list() candidates, into its list.
  float mine_value = -1.0 / 0.0;
  int mine_id = -1;
  for (uint j = lane; j < count; j += uint(wg_size)) {
    float v = penalised(base, first, j);
    slice_value[j] = v;  // read back only by this invocation
    if (ranks_before(v, int(first + j), mine_value, mine_id)) {
      mine_value = v;
      mine_id = int(first + j);
    }
  }
  lane_value[lane] = mine_value;
  lane_id[lane] = mine_id;
  Scratch scratch = Scratch(pc.scratch);
  uint list = 4u + g * per_list() * 2u;
  // A slice shorter than its list ends it with the -1 its last round finds.
  uint rounds = min(per_list(), count + 1u);
  for (uint r = 0u; r < rounds; ++r) {
    float value;
    int id;
    round_winner(lane, value, id);
    if (lane == 0u) {
      scratch.v[list + 2u * r] = floatBitsToUint(value);
      scratch.v[list + 2u * r + 1u] = uint(id);
    }
    if (id >= 0 && id == mine_id) {
      best_in_slice(lane, first, count, value, id, mine_value, mine_id);
      lane_value[lane] = mine_value;
      lane_id[lane] = mine_id;
    }
  }
  // Publish the list before counting this workgroup done; the last one
  // reads every other's after its count.
  memoryBarrierBuffer();
  barrier();
  Counter counter = Counter(pc.scratch);
  if (lane == 0u) is_last = atomicAdd(counter.n, 1u) + 1u == uint(kGroups);
  barrier();
  if (is_last) {  // uniform: read from shared memory
    memoryBarrierBuffer();
    // Phase 2: merge the lists, k rounds over their heads.
    best_head(scratch, lane, mine_value, mine_id);
    lane_value[lane] = mine_value;
    lane_id[lane] = mine_id;
    for (uint r = 0u; r < uint(k); ++r) {
      float value;
      int id;
      round_winner(lane, value, id);
      if (lane == 0u) {
        store_int(OUT(0), r, id);
        store(OUT(1), DT_F32, r, id >= 0 ? load(IN(0), DT_F32, base + uint(id)) : 0.0 / 0.0);
      }
      if (id >= 0 && id == mine_id) {
        heads[uint(id) / kSlice] += 1u;  // this invocation's list
        best_head(scratch, lane, mine_value, mine_id);
        lane_value[lane] = mine_value;
        lane_id[lane] = mine_id;
      }
    }
    if (lane == 0u) counter.n = 0u;
  }
}
