#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#extension GL_EXT_control_flow_attributes : require
// top_k(logits[..., V], recent[W]?) {k, penalty} -> (ids i32[k], values
// f32[k]) over the last row: the k most likely tokens after the repetition
// penalty (a positive logit of a token in `recent` divided by `penalty`, a
// negative one multiplied; ids < 0 are padding), most likely first, the
// lower id first among equals, NaN as -inf; `values` are the raw logits of
// those ids (the host's sampler recomputes the rest in f64).
//
// One workgroup (the sampling op reads one row). The recent ids become a
// bitmap in shared memory, so a logit's penalty is one lookup; then k
// rounds, each finding the best candidate ranked after the previous
// round's pick: every invocation scans its share of the row and the
// workgroup reduces the (value, id) pairs.
//
// A round's own loops have fixed counts and are unrolled, so a round costs
// one loop iteration: lavapipe silently ends every loop of an invocation
// once its loops together have run 65,535 iterations (top_k_split.comp):
// with a looped scan and tree, k = 5,000 over 5,000 logits stopped after
// 2,437 rounds, its last outputs never written.
EXTENT(in0_rows, 10)
layout(constant_id = 12) const int in0_cols = 1;
layout(constant_id = 13) const int in1_cols = 0;  // the recent window W; 0 without the input
layout(constant_id = 14) const int k = 1;
layout(constant_id = 15) const float penalty = 1.0;

const int kWords = (in0_cols + 31) / 32;
shared uint seen[kWords];
shared float best_value[wg_size];
shared int best_id[wg_size];
const uint kPerLane = (uint(in0_cols) + uint(wg_size) - 1u) / uint(wg_size);  // the row's elements per invocation
const uint kMaxLevels = 10u;  // of the reduction tree: wg_size <= 1024

// (a_value, a_id) ranks before (b_value, b_id); an id < 0 is no candidate.
bool ranks_before(float a_value, int a_id, float b_value, int b_id) {
  return b_id < 0 || (a_id >= 0 && (a_value > b_value || (a_value == b_value && a_id < b_id)));
}

float penalised(uint base, uint id) {
  float v = load(IN(0), DT_F32, base + id);
  if (isnan(v)) return -1.0 / 0.0;
  if (num_inputs == 2 && (seen[id >> 5] & (1u << (id & 31u))) != 0u) v = v > 0.0 ? v / penalty : v * penalty;
  return v;
}

void main() {
  uint lane = gl_LocalInvocationID.x;
  uint cols = uint(in0_cols);
  uint base = (EXT(in0_rows) - 1u) * cols;
  for (uint w = lane; w < uint(kWords); w += uint(wg_size)) seen[w] = 0u;
  barrier();
  if (num_inputs == 2) {
    for (uint j = lane; j < uint(in1_cols); j += uint(wg_size)) {
      int id = load_int(IN(1), j);
      if (id >= 0 && id < in0_cols) atomicOr(seen[uint(id) >> 5], 1u << (uint(id) & 31u));
    }
    barrier();
  }
  float last_value = 1.0 / 0.0;
  int last_id = -1;
  for (int r = 0; r < k; ++r) {
    float value = -1.0 / 0.0;
    int id = -1;
    [[unroll]] for (uint n = 0u; n < kPerLane; ++n) {
      uint c = lane + n * uint(wg_size);
      if (c >= cols) continue;
      float v = penalised(base, c);
      bool after_last = last_id < 0 || v < last_value || (v == last_value && int(c) > last_id);
      if (after_last && ranks_before(v, int(c), value, id)) {
        value = v;
        id = int(c);
      }
    }
    best_value[lane] = value;
    best_id[lane] = id;
    barrier();
    // Levels past log2(wg_size) have stride 0 and do nothing but the barrier.
    [[unroll]] for (uint level = 1u; level <= kMaxLevels; ++level) {
      uint stride = uint(wg_size) >> level;
      if (lane < stride && ranks_before(best_value[lane + stride], best_id[lane + stride], best_value[lane],
                                        best_id[lane])) {
        best_value[lane] = best_value[lane + stride];
        best_id[lane] = best_id[lane + stride];
      }
      barrier();
    }
    last_value = best_value[0];
    last_id = best_id[0];
    barrier();
    if (lane == 0u) {
      store_int(OUT(0), uint(r), last_id);
      store(OUT(1), DT_F32, uint(r), last_id >= 0 ? load(IN(0), DT_F32, base + uint(last_id)) : 0.0 / 0.0);
    }
  }
}
