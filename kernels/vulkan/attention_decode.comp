#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_memory_scope_semantics : require
// attention(q[T, Hq, Dh], k[S, Hkv, Dh], v[S, Hkv, Dh]) -> [T, Hq, Dh] as
// attention_reference.comp computes it, laid out for decode latency: one
// workgroup per (row t, kv head, block of KILN_VULKAN_ATTENTION_DECODE_KEYS
// keys), one key per invocation, every query head of the kv head's group
// scored against each key read.
//
// The chain of dependent steps is kept short:
// - q (scaled, into shared), the invocation's K row and the V values its
//   P·V will read are all requested before any of them is used: one round
//   trip to memory (V only where the block's V tile fits kVRegs registers
//   an invocation; else right after the scores);
// - a subgroup owns the keys its invocations scored: their max and sum
//   are subgroupMax and subgroupAdd, their P·V reads the probabilities its
//   own invocations wrote (a subgroupBarrier), each invocation owning
//   kPerLane output features of every head of the round;
// - the subgroups' partial softmaxes (max, sum, output) meet in shared
//   memory once: one barrier, after which each output is combined;
// - a context within one block is written straight to the output. Past
//   one block, each block leaves its partial (max, sum, output) per query
//   head in the dispatch's scratch and counts itself done; the last block
//   of the (t, kv head) combines them all and resets the counter to 0.
// So a one-block step has two barriers (q, the exchange), a longer one two
// more (the count) and one more memory round trip (the partials).
//
// Heads go by rounds of kHeads (all of the group where it fits the
// registers and the exchange), features by tiles of kTile; most shapes
// take one round and one tile. Needs subgroups of one fixed size
// (subgroup_size) dividing the workgroup, and
// KILN_VULKAN_ATTENTION_DECODE_KEYS <= wg_size (256, the shader's
// default; the invocations past the block's keys score none).
//
// The scratch, per (t, kv head), as uints: the counter padded to 16 bytes,
// then per (block, query head of the group) the block's max, sum and Dh
// output sums as f32 bits. The plugin zero-fills it once (kernel_table.cc,
// attention_decode_scratch); the counters go back to 0 after each step
// (and the partials too where S is symbolic: clear_partials).
#include "kernels/vulkan/shapes.h"
DTYPE(in0_dtype, 10)
DTYPE(in1_dtype, 11)
DTYPE(in2_dtype, 12)
DTYPE(out0_dtype, 13)
EXTENT(in0_d0, 14)                                 // T
layout(constant_id = 16) const int in0_d1 = 1;     // Hq
layout(constant_id = 17) const int in0_d2 = 1;     // Dh
layout(constant_id = 18) const int in1_d1 = 1;     // Hkv
layout(constant_id = 19) const bool causal = true;
layout(constant_id = 20) const float scale = 0.0;  // 0: 1 / sqrt(Dh)
EXTENT(in1_d0, 21)                                 // S, k's rows (the cache's)
layout(constant_id = 23) const int subgroup_size = 32;

layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer Scratch { uint u[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer Vec4Buf { vec4 v[]; };
layout(buffer_reference, std430, buffer_reference_align = 8) readonly buffer Half4Buf { uvec2 v[]; };

const uint kKeys = uint(KILN_VULKAN_ATTENTION_DECODE_KEYS);
const uint kGroup = uint(in0_d1 / in1_d1);  // query heads per kv head
const uint kDim = uint(in0_d2);
const uint kDim4 = (kDim + 3u) / 4u;        // K rows and q as vec4s
const uint kSg = uint(subgroup_size);
const uint kSubgroups = uint(wg_size) / kSg;
// Registers an invocation gives K (kKVec4 vec4s: Dh <= 64 is read once,
// longer rows in chunks) and V (kVRegs floats).
const uint kKVec4 = 16u;
const uint kVRegs = 64u;
// Output features per invocation and head: Dh over the subgroup, at most 8.
const uint kLaneDims = (kDim + kSg - 1u) / kSg;
const uint kPerLane = kLaneDims < 8u ? kLaneDims : 8u;
const uint kTile = kSg * kPerLane;  // the features a round covers
// Heads per round: the group, at most 8 (scores in registers) and at most
// 16 / kPerLane (the accumulators; the exchange is then <= 16 * wg_size
// floats).
const uint kHeadsCap = 16u / kPerLane < 8u ? 16u / kPerLane : 8u;
const uint kHeads = kGroup < kHeadsCap ? kGroup : kHeadsCap;
// Keys of a subgroup whose V values are loaded at once (all of them where
// the tile fits kVRegs).
const uint kVKeys = kVRegs / kPerLane < kSg ? kVRegs / kPerLane : kSg;

shared vec4 q_rows[kHeads * kDim4];                // the round's query rows, scaled, zero-padded
shared float probs[kHeads * uint(wg_size)];        // [head][key], relative to the key's subgroup max
shared float parts[kSubgroups * kHeads * kTile];   // [subgroup][head][feature of the tile]
shared float sub_max[kSubgroups * kHeads];         // [subgroup][head]
shared float sub_sum[kSubgroups * kHeads];
shared bool is_last;

uint blocks() { return (EXT(in1_d0) + kKeys - 1u) / kKeys; }
uint record_uints() { return 4u + blocks() * kGroup * (kDim + 2u); }
uint tiles() { return (kDim + kTile - 1u) / kTile; }
bool v_early() { return tiles() == 1u && kVKeys == kSg; }

// What one workgroup works on; every field uniform.
struct Block {
  uint t, kv_head, block, live;  // live: the blocks this row's keys span
  uint count;                    // keys of this block, <= kKeys
  uint kv_base;                  // element (first key, kv_head, 0) of k and v
  uint kv_stride;                // elements from one key to the next
  uint q_base;                   // element (t, first head of the group, 0) of q and of the output
  uint record;                   // the (t, kv head)'s first uint in the scratch
};

// K row elements [d, d + 4) of the row at |row|, zeros past Dh; |vector|:
// one 16-byte (f32) or 8-byte (f16, bf16) load, the row aligned to it.
vec4 load_k4(uint row, uint d, bool vector) {
  if (vector) {
    if (in1_dtype == DT_F32) return Vec4Buf(pc.operand[IN(1)]).v[(row + d) / 4u];
    uvec2 u = Half4Buf(pc.operand[IN(1)]).v[(row + d) / 4u];
    if (in1_dtype == DT_F16) return vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
    return uintBitsToFloat(uvec4(u.x << 16, u.x & 0xffff0000u, u.y << 16, u.y & 0xffff0000u));
  }
  vec4 x = vec4(0.0);
  [[unroll]] for (uint c = 0u; c < 4u; ++c) {
    if (d + c < kDim) x[c] = load(IN(1), in1_dtype, row + d + c);
  }
  return x;
}

bool k_vector() {
  uint align = in1_dtype == DT_F32 ? 15u : 7u;
  return kDim % 4u == 0u && (pc.operand[IN(1)].x & align) == 0u;
}

// q element |i| of the round's [kHeads][kDim4 * 4] rows from head h0, scaled.
float q_value(Block b, uint h0, uint i) {
  uint h = i / (kDim4 * 4u), d = i % (kDim4 * 4u);
  if (d >= kDim || h0 + h >= kGroup) return 0.0;
  float s = scale == 0.0 ? inversesqrt(float(kDim)) : scale;
  return load(IN(0), in0_dtype, b.q_base + (h0 + h) * kDim + d) * s;
}

void store_q(Block b, uint h0) {
  for (uint i = gl_LocalInvocationID.x; i < kHeads * kDim4 * 4u; i += uint(wg_size)) {
    q_rows[i / 4u][i % 4u] = q_value(b, h0, i);
  }
}

// V values of this invocation for the subgroup's keys [j0, j0 + kVKeys) and
// the tile from feature d0: v[j * kPerLane + e] is key j0 + j, feature
// d0 + lane + e * kSg (zero past the block or Dh).
void load_v(Block b, uint d0, uint j0, out float v[kVRegs]) {
  uint sl = gl_SubgroupInvocationID, first = gl_SubgroupID * kSg + j0;
  [[unroll]] for (uint j = 0u; j < kVKeys; ++j) {
    [[unroll]] for (uint e = 0u; e < kPerLane; ++e) {
      uint d = d0 + sl + e * kSg;
      bool live = j0 + j < kSg && first + j < b.count && d < kDim;
      v[j * kPerLane + e] = live ? load(IN(2), in2_dtype, b.kv_base + (first + j) * b.kv_stride + d) : 0.0;
    }
  }
}

// This invocation's key against the round's heads: score[h] for head h0 + h.
void score_key(Block b, bool early, inout vec4 k_row[kKVec4], out float score[8]) {
  uint key = gl_SubgroupID * kSg + gl_SubgroupInvocationID;
  uint row = b.kv_base + key * b.kv_stride;
  bool vector = k_vector();
  [[unroll]] for (uint h = 0u; h < 8u; ++h) score[h] = 0.0;
  for (uint c0 = 0u; c0 < kDim4; c0 += kKVec4) {
    if (!early) {
      [[unroll]] for (uint c = 0u; c < kKVec4; ++c) {
        k_row[c] = key < b.count && c0 + c < kDim4 ? load_k4(row, (c0 + c) * 4u, vector) : vec4(0.0);
      }
    }
    [[unroll]] for (uint c = 0u; c < kKVec4; ++c) {
      if (c0 + c >= kDim4) break;
      [[unroll]] for (uint h = 0u; h < kHeads; ++h) score[h] += dot(q_rows[h * kDim4 + c0 + c], k_row[c]);
    }
  }
}

// The subgroup's softmax of its keys per head: probs (relative to the
// subgroup's max) to shared memory for its own P·V, max and sum to the
// exchange.
void subgroup_softmax(Block b, float score[8]) {
  uint key = gl_SubgroupID * kSg + gl_SubgroupInvocationID;
  bool live = key < b.count;
  [[unroll]] for (uint h = 0u; h < kHeads; ++h) {
    float x = live ? score[h] : -1.0 / 0.0;
    float m = subgroupMax(x);
    float p = live ? exp(x - m) : 0.0;  // a subgroup with no live key has m = -inf
    float l = subgroupAdd(p);
    probs[h * uint(wg_size) + key] = p;
    if (subgroupElect()) {
      sub_max[gl_SubgroupID * kHeads + h] = m;
      sub_sum[gl_SubgroupID * kHeads + h] = l;
    }
  }
  subgroupBarrier();
}

// The subgroup's keys times V for the tile from d0, into the exchange.
void subgroup_pv(Block b, uint d0, inout float v[kVRegs]) {
  uint first = gl_SubgroupID * kSg;
  float acc[16];
  [[unroll]] for (uint i = 0u; i < 16u; ++i) acc[i] = 0.0;
  for (uint j0 = 0u; j0 < kSg; j0 += kVKeys) {
    if (!v_early()) load_v(b, d0, j0, v);
    [[unroll]] for (uint j = 0u; j < kVKeys; ++j) {
      if (j0 + j >= kSg) break;  // kVKeys need not divide the subgroup
      [[unroll]] for (uint h = 0u; h < kHeads; ++h) {
        float p = probs[h * uint(wg_size) + first + j0 + j];
        [[unroll]] for (uint e = 0u; e < kPerLane; ++e) acc[h * kPerLane + e] += p * v[j * kPerLane + e];
      }
    }
  }
  [[unroll]] for (uint h = 0u; h < kHeads; ++h) {
    [[unroll]] for (uint e = 0u; e < kPerLane; ++e) {
      parts[(gl_SubgroupID * kHeads + h) * kTile + gl_SubgroupInvocationID + e * kSg] = acc[h * kPerLane + e];
    }
  }
}

// After the exchange: each output of the round's tile combined over the
// subgroups, to the output (one live block) or to the block's partial.
void combine_subgroups(Block b, uint h0, uint d0) {
  Scratch scratch = Scratch(pc.scratch);
  for (uint o = gl_LocalInvocationID.x; o < kHeads * kTile; o += uint(wg_size)) {
    uint h = o / kTile, td = o % kTile, d = d0 + td, head = h0 + h;
    if (d >= kDim || head >= kGroup) continue;
    float m = -1.0 / 0.0;
    for (uint s = 0u; s < kSubgroups; ++s) m = max(m, sub_max[s * kHeads + h]);
    float l = 0.0, acc = 0.0;
    for (uint s = 0u; s < kSubgroups; ++s) {
      float w = exp(sub_max[s * kHeads + h] - m);  // 0 for a subgroup with no live key
      l += w * sub_sum[s * kHeads + h];
      acc += w * parts[(s * kHeads + h) * kTile + td];
    }
    if (b.live == 1u) {
      store(OUT(0), out0_dtype, b.q_base + head * kDim + d, acc / l);
      continue;
    }
    uint partial = b.record + 4u + (b.block * kGroup + head) * (kDim + 2u);
    scratch.u[partial + 2u + d] = floatBitsToUint(acc);
    if (d == 0u) {
      scratch.u[partial] = floatBitsToUint(m);
      scratch.u[partial + 1u] = floatBitsToUint(l);
    }
  }
}

// The last block of a (t, kv head): every block's partial, combined. Each
// output's loads of 8 blocks are in flight together.
void combine_blocks(Block b) {
  Scratch scratch = Scratch(pc.scratch);
  for (uint o = gl_LocalInvocationID.x; o < kGroup * kDim; o += uint(wg_size)) {
    uint head = o / kDim, d = o % kDim;
    float m = -1.0 / 0.0, l = 0.0, acc = 0.0;
    for (uint b0 = 0u; b0 < b.live; b0 += 8u) {
      float bm[8], bl[8], bo[8];
      [[unroll]] for (uint u = 0u; u < 8u; ++u) {
        uint partial = b.record + 4u + (min(b0 + u, b.live - 1u) * kGroup + head) * (kDim + 2u);
        bm[u] = uintBitsToFloat(scratch.u[partial]);
        bl[u] = uintBitsToFloat(scratch.u[partial + 1u]);
        bo[u] = uintBitsToFloat(scratch.u[partial + 2u + d]);
      }
      [[unroll]] for (uint u = 0u; u < 8u; ++u) {
        if (b0 + u >= b.live) break;
        float next = max(m, bm[u]);
        float old_w = exp(m - next), w = exp(bm[u] - next);  // m = -inf at first: old_w = 0
        l = l * old_w + bl[u] * w;
        acc = acc * old_w + bo[u] * w;
        m = next;
      }
    }
    store(OUT(0), out0_dtype, b.q_base + o, acc / l);
  }
}

// The scratch's layout follows S. A cache's S is static, but a k whose
// rows are symbolic (forced on a graph without a cache) moves the records
// from step to step, so a later step's counter could fall where this one
// left a partial: there the last block leaves every partial zero, as the
// plugin filled it.
void clear_partials(Block b) {
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeWorkgroup, gl_StorageSemanticsBuffer, gl_SemanticsAcquireRelease);
  Scratch scratch = Scratch(pc.scratch);
  for (uint i = gl_LocalInvocationID.x; i < b.live * kGroup * (kDim + 2u); i += uint(wg_size)) {
    scratch.u[b.record + 4u + i] = 0u;
  }
}

Block locate(uint g) {
  Block b;
  uint rows = EXT(in0_d0), kv_heads = uint(in1_d1);
  b.block = g % blocks();
  b.kv_head = (g / blocks()) % kv_heads;
  b.t = (g / blocks()) / kv_heads;
  uint limit = causal ? past() + b.t + 1u : past() + rows;
  b.live = (limit + kKeys - 1u) / kKeys;
  b.count = b.block < b.live ? min(kKeys, limit - b.block * kKeys) : 0u;
  b.kv_stride = kv_heads * kDim;
  b.kv_base = b.block * kKeys * b.kv_stride + b.kv_head * kDim;
  b.q_base = (b.t * uint(in0_d1) + b.kv_head * kGroup) * kDim;
  b.record = (b.t * kv_heads + b.kv_head) * record_uints();
  return b;
}

void main() {
  uint g = group_index();
  if (g >= EXT(in0_d0) * uint(in1_d1) * blocks()) return;
  Block b = locate(g);
  if (b.block >= b.live) return;  // uniform per workgroup
  uint lane = gl_LocalInvocationID.x, wg = uint(wg_size);
  // One round trip: the first round's q, this invocation's K row and (where
  // they fit) its V values, all requested before any is used.
  float q_first[4];
  [[unroll]] for (uint r = 0u; r < 4u; ++r) {
    uint i = lane + r * wg;
    q_first[r] = i < kHeads * kDim4 * 4u ? q_value(b, 0u, i) : 0.0;
  }
  vec4 k_row[kKVec4];
  bool k_early = kDim4 <= kKVec4;
  if (k_early) {
    uint key = gl_SubgroupID * kSg + gl_SubgroupInvocationID;
    bool vector = k_vector();
    [[unroll]] for (uint c = 0u; c < kKVec4; ++c) {
      k_row[c] = key < b.count && c < kDim4 ? load_k4(b.kv_base + key * b.kv_stride, c * 4u, vector) : vec4(0.0);
    }
  }
  float v[kVRegs];
  if (v_early()) load_v(b, 0u, 0u, v);
  [[unroll]] for (uint r = 0u; r < 4u; ++r) {
    uint i = lane + r * wg;
    if (i < kHeads * kDim4 * 4u) q_rows[i / 4u][i % 4u] = q_first[r];
  }
  for (uint i = lane + 4u * wg; i < kHeads * kDim4 * 4u; i += wg) q_rows[i / 4u][i % 4u] = q_value(b, 0u, i);
  barrier();
  for (uint h0 = 0u; h0 < kGroup; h0 += kHeads) {
    if (h0 > 0u) {
      store_q(b, h0);
      barrier();
    }
    float score[8];
    score_key(b, k_early, k_row, score);
    subgroup_softmax(b, score);
    for (uint d0 = 0u; d0 < kDim; d0 += kTile) {
      subgroup_pv(b, d0, v);
      barrier();
      combine_subgroups(b, h0, d0);
      if (h0 + kHeads < kGroup || d0 + kTile < kDim) barrier();  // the next round reuses the exchange
    }
  }
  if (b.live == 1u) return;
  // Release every invocation's partial at device scope before the count;
  // the count's acquire, passed on by the barrier after it, orders the last
  // block's reads of the other blocks' partials after their writes.
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquireRelease);
  Scratch scratch = Scratch(pc.scratch);
  if (lane == 0u) {
    uint done = atomicAdd(scratch.u[b.record], 1u, gl_ScopeDevice, gl_StorageSemanticsBuffer,
                          gl_SemanticsAcquireRelease);
    is_last = done + 1u == b.live;
  }
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeDevice, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared,
                 gl_SemanticsAcquireRelease);
  if (!is_last) return;  // uniform: read from shared memory
  combine_blocks(b);
  if (in1_d0_slot >= 0) clear_partials(b);
  // Every block has counted (this one last): the next replay starts at 0.
  if (lane == 0u) atomicStore(scratch.u[b.record], 0u, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelaxed);
}
