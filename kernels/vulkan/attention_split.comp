#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// attention(q[T, Hq, Dh], k[S, Hkv, Dh], v[S, Hkv, Dh]) -> [T, Hq, Dh] as
// attention_reference.comp computes it, with the KV rows split across
// workgroups (flash-decoding), for decode: one workgroup per (t, kv head,
// block of KILN_VULKAN_ATTENTION_KEYS rows), so a 4096-row context over 8
// kv heads gives 512 workgroups where the reference gives Hq. The query
// heads of one kv head (Hq / Hkv of them) share each K and V read.
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
layout(constant_id = 21) const int in1_d0 = 1;     // S, the cache's rows

layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer Scratch { float v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer Counter { uint n; };

const uint kKeys = uint(KILN_VULKAN_ATTENTION_KEYS);
shared float q_rows[in0_d1 / in1_d1 * in0_d2];            // the group's query rows, scaled
shared float probs[in0_d1 / in1_d1 * KILN_VULKAN_ATTENTION_KEYS];  // [head][key]
shared float block_max[in0_d1 / in1_d1];
shared float block_sum[in0_d1 / in1_d1];
shared bool is_last;

uint group_size() { return uint(in0_d1 / in1_d1); }
uint blocks() { return (uint(in1_d0) + kKeys - 1u) / kKeys; }
uint record_floats() { return 4u + blocks() * group_size() * uint(in0_d2 + 2); }

// Scores of the block's keys against each query head of the group, into
// probs[head * kKeys + key]; -inf past |count|.
void score_block(uint kv_base, uint count, uint lane) {
  uint dim = uint(in0_d2), kv_stride = uint(in1_d1) * dim;
  for (uint p = lane; p < group_size() * kKeys; p += uint(wg_size)) {
    uint j = p % kKeys, head = p / kKeys;
    float score = -1.0 / 0.0;
    if (j < count) {
      score = 0.0;
      uint base = kv_base + j * kv_stride;
      for (uint d = 0u; d < dim; ++d) score += q_rows[head * dim + d] * load(IN(1), in1_dtype, base + d);
    }
    probs[p] = score;
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
  if (lane < group) {
    float m = -1.0 / 0.0;
    for (uint j = 0u; j < count; ++j) m = max(m, probs[lane * kKeys + j]);
    block_max[lane] = m;
  }
  barrier();
  for (uint p = lane; p < group * kKeys; p += wg) {
    probs[p] = p % kKeys < count ? exp(probs[p] - block_max[p / kKeys]) : 0.0;
  }
  barrier();
  if (lane < group) {
    float l = 0.0;
    for (uint j = 0u; j < count; ++j) l += probs[lane * kKeys + j];
    block_sum[lane] = l;
  }
  barrier();
  Scratch scratch = Scratch(pc.scratch);
  uint record = (t * kv_heads + kv_head) * record_floats();
  for (uint i = lane; i < group * dim; i += wg) {
    uint head = i / dim, d = i % dim;
    float acc = 0.0;
    for (uint j = 0u; j < count; ++j) acc += probs[head * kKeys + j] * load(IN(2), in2_dtype, kv_base + j * kv_stride + d);
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
  for (uint i = lane; i < group * dim; i += wg) {
    uint head = i / dim, d = i % dim;
    float m = -1.0 / 0.0;
    for (uint b = 0u; b < live_blocks; ++b) m = max(m, scratch.v[record + 4u + (b * group + head) * (dim + 2u)]);
    float numerator = 0.0, denominator = 0.0;
    for (uint b = 0u; b < live_blocks; ++b) {
      uint partial = record + 4u + (b * group + head) * (dim + 2u);
      float weight = exp(scratch.v[partial] - m);
      denominator += scratch.v[partial + 1u] * weight;
      numerator += scratch.v[partial + 2u + d] * weight;
    }
    store(OUT(0), out0_dtype, q_base + i, numerator / denominator);
  }
  if (lane == 0u) counter.n = 0u;
}
