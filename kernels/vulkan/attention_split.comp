#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#extension GL_EXT_control_flow_attributes : require
// attention(q[T, Hq, Dh], k[S, Hkv, Dh], v[S, Hkv, Dh]) -> [T, Hq, Dh] as
// attention_reference.comp computes it, with the KV rows split across
// workgroups (flash-decoding), for decode: one workgroup per (t, kv head,
// block of KILN_VULKAN_ATTENTION_KEYS rows), so a 4096-row context over 8
// kv heads gives 1,024 workgroups where the reference gives Hq. The query
// heads of one kv head (Hq / Hkv of them) share each K and V read.
//
// Decode is latency, not bandwidth: a block's K rows are scored by all of
// the workgroup at once (kLanesPerKey invocations a key), the max and sum
// are halving trees over the keys, and the V loop and the combine keep
// kVUnroll loads in flight, never waiting on one row before asking for the
// next.
//
// Each workgroup writes its block's partial softmax (max m, sum l and the
// unnormalised output, per query head) to its dispatch's scratch and counts
// itself done on the (t, kv head)'s counter; the last one to finish
// combines every block and resets the counter to 0 for the next step. The
// scratch, per (t, kv head): the counter, padded to 16 bytes, then per
// (block, query head of the group) m, l and Dh sums. The plugin zero-fills
// it once (kernel_table.cc, attention_scratch).
#include "kernels/vulkan/shapes.h"
DTYPE(in0_dtype, 10)
DTYPE(in1_dtype, 11)
DTYPE(in2_dtype, 12)
DTYPE(out0_dtype, 13)
EXTENT(in0_d0, 14)
layout(constant_id = 16) const int in0_d1 = 1;  // Hq
layout(constant_id = 17) const int in0_d2 = 1;  // Dh
layout(constant_id = 18) const int in1_d1 = 1;  // Hkv
layout(constant_id = 19) const bool causal = true;
layout(constant_id = 20) const float scale = 0.0;  // 0: 1 / sqrt(Dh)
EXTENT(in1_d0, 21)                                 // S, k's rows (the cache's)

layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer Scratch { float v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer Counter { uint n; };

const uint kKeys = uint(KILN_VULKAN_ATTENTION_KEYS);
// Scores: kLanesPerKey invocations share a key, each summing every
// kLanesPerKey-th feature, so a block's keys are read all at once.
const uint kLanesPerKey = uint(wg_size) / kKeys;
// V: each invocation's loads of this many keys are in flight together (a
// loop that waits on each V row before the next would pay the memory's
// latency once per key).
const uint kVUnroll = 32u;
shared float q_rows[in0_d1 / in1_d1 * in0_d2];                        // the group's query rows, scaled
shared float probs[in0_d1 / in1_d1 * KILN_VULKAN_ATTENTION_KEYS];     // [head][key]
shared float reduction[in0_d1 / in1_d1 * KILN_VULKAN_ATTENTION_KEYS];  // [head][key] for max and sum
shared float score_parts[in0_d1 / in1_d1 * wg_size];                   // [head][lane]
shared float block_max[in0_d1 / in1_d1];
shared float block_sum[in0_d1 / in1_d1];
shared bool is_last;

uint group_size() { return uint(in0_d1 / in1_d1); }
uint blocks() { return (EXT(in1_d0) + kKeys - 1u) / kKeys; }
uint record_floats() { return 4u + blocks() * group_size() * uint(in0_d2 + 2); }

// Scores of the block's keys against each query head of the group, into
// probs[head * kKeys + key]; -inf past |count|.
void score_block(uint kv_base, uint count, uint lane) {
  uint dim = uint(in0_d2), kv_stride = uint(in1_d1) * dim, group = group_size(), wg = uint(wg_size);
  uint key = lane / kLanesPerKey, part = lane % kLanesPerKey;
  if (key < count) {
    uint base = kv_base + key * kv_stride;
    for (uint head = 0u; head < group; ++head) {
      float partial = 0.0;
      for (uint d = part; d < dim; d += kLanesPerKey) partial += q_rows[head * dim + d] * load(IN(1), in1_dtype, base + d);
      score_parts[head * wg + lane] = partial;
    }
  }
  barrier();
  for (uint p = lane; p < group * kKeys; p += wg) {
    uint head = p / kKeys, j = p % kKeys;
    float score = -1.0 / 0.0;
    if (j < count) {
      score = 0.0;
      for (uint l = 0u; l < kLanesPerKey; ++l) score += score_parts[head * wg + j * kLanesPerKey + l];
    }
    probs[p] = score;
  }
}

// Each head's reduction (max when `maximum`, else sum) of reduction[head *
// kKeys + ...], halving the span with a barrier a step.
void reduce_heads(uint lane, bool maximum) {
  uint group = group_size(), wg = uint(wg_size);
  for (uint span = kKeys / 2u; span > 0u; span /= 2u) {
    for (uint p = lane; p < group * kKeys; p += wg) {
      uint j = p % kKeys;
      if (j < span) {
        float a = reduction[p], b = reduction[p + span];
        reduction[p] = maximum ? max(a, b) : a + b;
      }
    }
    barrier();
  }
}

void main() {
  uint rows = EXT(in0_d0);
  uint heads = uint(in0_d1), dim = uint(in0_d2), kv_heads = uint(in1_d1), group = group_size();
  uint g = group_index();
  if (g >= rows * kv_heads * blocks()) return;
  uint lane = gl_LocalInvocationID.x, wg = uint(wg_size);
  uint block = g % blocks(), t = (g / blocks()) / kv_heads, kv_head = (g / blocks()) % kv_heads;
  uint limit = causal ? past() + t + 1u : past() + rows;
  uint live_blocks = (limit + kKeys - 1u) / kKeys;
  if (block >= live_blocks) return;  // uniform per workgroup
  uint first = block * kKeys, count = min(kKeys, limit - first);
  uint kv_stride = kv_heads * dim, kv_base = first * kv_stride + kv_head * dim;
  float s = scale == 0.0 ? inversesqrt(float(dim)) : scale;
  uint q_base = (t * heads + kv_head * group) * dim;  // the group's heads are adjacent
  for (uint i = lane; i < group * dim; i += wg) q_rows[i] = load(IN(0), in0_dtype, q_base + i) * s;
  barrier();
  score_block(kv_base, count, lane);
  barrier();
  for (uint p = lane; p < group * kKeys; p += wg) reduction[p] = probs[p];
  barrier();
  reduce_heads(lane, true);
  if (lane < group) block_max[lane] = reduction[lane * kKeys];
  barrier();
  for (uint p = lane; p < group * kKeys; p += wg) {
    float e = p % kKeys < count ? exp(probs[p] - block_max[p / kKeys]) : 0.0;
    probs[p] = e;
    reduction[p] = e;
  }
  barrier();
  reduce_heads(lane, false);
  if (lane < group) block_sum[lane] = reduction[lane * kKeys];
  barrier();
  Scratch scratch = Scratch(pc.scratch);
  uint record = (t * kv_heads + kv_head) * record_floats();
  for (uint i = lane; i < group * dim; i += wg) {
    uint head = i / dim, d = i % dim;
    float acc = 0.0;
    for (uint j0 = 0u; j0 < count; j0 += kVUnroll) {
      float v[kVUnroll];
      [[unroll]] for (uint u = 0u; u < kVUnroll; ++u) {
        v[u] = j0 + u < count ? load(IN(2), in2_dtype, kv_base + (j0 + u) * kv_stride + d) : 0.0;
      }
      [[unroll]] for (uint u = 0u; u < kVUnroll; ++u) acc += probs[head * kKeys + min(j0 + u, kKeys - 1u)] * v[u];
    }
    uint partial = record + 4u + (block * group + head) * (dim + 2u);
    scratch.v[partial + 2u + d] = acc;
    if (d == 0u) {
      scratch.v[partial] = block_max[head];
      scratch.v[partial + 1u] = block_sum[head];
    }
  }
  // Publish the partials before counting this block done; the last block
  // reads every other block's after its count.
  memoryBarrierBuffer();
  barrier();
  Counter counter = Counter(pc.scratch + uvec2(record * 4u, 0u));
  if (lane == 0u) is_last = atomicAdd(counter.n, 1u) + 1u == live_blocks;
  barrier();
  if (!is_last) return;  // uniform: read from shared memory
  memoryBarrierBuffer();
  // The blocks' partials are read kVUnroll at a time, their loads in
  // flight together.
  for (uint i = lane; i < group * dim; i += wg) {
    uint head = i / dim, d = i % dim;
    float m = -1.0 / 0.0;
    for (uint b0 = 0u; b0 < live_blocks; b0 += kVUnroll) {
      [[unroll]] for (uint u = 0u; u < kVUnroll; ++u) {
        uint b = min(b0 + u, live_blocks - 1u);
        m = max(m, scratch.v[record + 4u + (b * group + head) * (dim + 2u)]);
      }
    }
    float numerator = 0.0, denominator = 0.0;
    for (uint b0 = 0u; b0 < live_blocks; b0 += kVUnroll) {
      float block_m[kVUnroll], block_l[kVUnroll], block_o[kVUnroll];
      [[unroll]] for (uint u = 0u; u < kVUnroll; ++u) {
        uint partial = record + 4u + (min(b0 + u, live_blocks - 1u) * group + head) * (dim + 2u);
        block_m[u] = scratch.v[partial];
        block_l[u] = scratch.v[partial + 1u];
        block_o[u] = scratch.v[partial + 2u + d];
      }
      [[unroll]] for (uint u = 0u; u < kVUnroll; ++u) {
        float weight = b0 + u < live_blocks ? exp(block_m[u] - m) : 0.0;
        denominator += block_l[u] * weight;
        numerator += block_o[u] * weight;
      }
    }
    store(OUT(0), out0_dtype, q_base + i, numerator / denominator);
  }
  // Where k's rows are symbolic (k is not a cache), the records move with
  // S from step to step, so a later step's counter could fall where this
  // one left a partial: the last block leaves its partials zero, as the
  // plugin filled them.
  if (in1_d0_slot >= 0) {
    barrier();
    for (uint i = lane; i < live_blocks * group * (dim + 2u); i += wg) scratch.v[record + 4u + i] = 0.0;
  }
  if (lane == 0u) counter.n = 0u;
}
