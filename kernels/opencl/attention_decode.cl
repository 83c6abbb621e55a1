// attention(q[T, Hq, Dh], k[S, Hkv, Dh], v[S, Hkv, Dh]) -> [T, Hq, Dh] as
// attention_workgroup.cl computes it, laid out for decode latency: one
// work-group per (row t, kv head, block of DECODE_KEYS keys), one key per
// work-item, every query head of the kv head's group scored against each
// key read. OpenCL C 1.2, local memory only (NVIDIA's OpenCL and PoCL have
// no subgroups).
//
// The chain of dependent steps is kept short:
// - q (scaled, into local memory), the work-item's K row and the V values
//   its P·V will read are requested before any is used: one round trip
//   (V only where a tile of it fits V_REGS registers a work-item; else
//   right after the scores);
// - a team of TEAM work-items owns TEAM keys: each work-item reads its
//   team's scores for the team's max (no tree), writes its key's
//   probability, and sums the team's probabilities times V, owning
//   PER_LANE output features of every head of the round;
// - the teams' partial softmaxes (max, sum, output) meet in local memory
//   once, then each output is combined;
// - a context within one block is written straight to the output. Past
//   one block, each block leaves its partial (max, sum, output) per query
//   head in the dispatch's scratch and counts itself done with atomic_inc;
//   the last block of the (t, kv head) combines them all and resets the
//   counter to 0. Scratch is written and read through volatile pointers,
//   so the last block's reads go to memory, not a stale cache.
// A one-block step has four barriers (q, scores, probabilities, the
// exchange), a longer one two more (the count) and one more memory round
// trip (the partials). Every barrier is in control flow uniform across the
// work-group, and none follows a return (top_k_split.cl says why).
//
// Heads go by rounds of ROUND_HEADS (all of the group where it fits the
// registers and the exchange), features by tiles of FEATURE_TILE; most
// shapes take one round and one tile.
//
// The scratch, as uints, per (t, kv head): a counter padded to 16 bytes,
// then per (block, query head of the group) the block's max, sum and Dh
// output sums as f32 bits. The host zero-fills it once; the last block
// leaves it zero again (counter and partials) for the next step.
#ifndef PAST
#error "attention needs the step parameter 'past' (the slot P)"
#endif

#define DECODE_KEYS 256  // kernel_table.cc's kAttentionDecodeKeys
#if WG != DECODE_KEYS
#error "attention_decode reads one key per work-item: WG must be DECODE_KEYS"
#endif

#define T IN0_D0
#define HQ IN0_D1
#define DH IN0_D2
#define HKV IN1_D1
#define GROUP (HQ / HKV)
#define DH4 ((DH + 3) / 4)
#define TEAM 32
#define TEAMS (WG / TEAM)
// Output features per work-item and head: Dh over the team, at most 8.
#define LANE_DIMS ((DH + TEAM - 1) / TEAM)
#define PER_LANE (LANE_DIMS < 8 ? LANE_DIMS : 8)
#define FEATURE_TILE (TEAM * PER_LANE)
// Heads per round: at most 8 (scores in registers) and 16 / PER_LANE (the
// accumulators; the exchange is then <= 16 * WG floats).
#define ROUND_HEADS_CAP (16 / PER_LANE < 8 ? 16 / PER_LANE : 8)
#define ROUND_HEADS (GROUP < ROUND_HEADS_CAP ? GROUP : ROUND_HEADS_CAP)
// Registers a work-item gives K (K_VEC4 float4s: a row of Dh <= 64 read
// once, longer ones in chunks) and V (V_REGS floats, the team's V_KEYS keys
// at a time).
#define K_VEC4 16
#define V_REGS 64
#define V_KEYS (V_REGS / PER_LANE < TEAM ? V_REGS / PER_LANE : TEAM)
#define K_EARLY (DH4 <= K_VEC4)
#define V_EARLY (DH <= FEATURE_TILE && V_KEYS == TEAM)
#define Q_ELEMS (ROUND_HEADS * DH4 * 4)

#define LOAD4_f32(p, i) vload4(0, (p) + (i))
#define LOAD4_f16(p, i) vload_half4(0, (const __global half*)((p) + (i)))
#define LOAD4_bf16(p, i) as_float4(convert_uint4(vload4(0, (p) + (i))) << 16)
#define LOAD4(dt, p, i) KILN_CAT(LOAD4_, dt)(p, i)

// What one work-group works on.
typedef struct {
  uint t, kv_head, block, live;  // live: the blocks this row's keys span
  uint count;                    // keys of this block, <= DECODE_KEYS
  uint kv_base;                  // element (first key, kv_head, 0) of k and v
  uint q_base;                   // element (t, first head of the group, 0) of q and of the output
  uint record;                   // the (t, kv head)'s first uint in the scratch
} Block;

#define KV_STRIDE (HKV * DH)

// q element |i| of the round's [ROUND_HEADS][DH4 * 4] rows from head h0, scaled.
float q_value(const __global STORAGE(IN0_DT)* q, const Block b, const uint h0, const uint i) {
  const uint h = i / (DH4 * 4), d = i % (DH4 * 4);
  if (d >= DH || h0 + h >= GROUP) return 0.0f;
  const float scale = SCALE == 0.0 ? rsqrt((float)DH) : (float)SCALE;
  return LOAD(IN0_DT, q, b.q_base + (h0 + h) * DH + d) * scale;
}

// K row elements [d, d + 4) of |row|, zeros past Dh.
float4 load_k4(const __global STORAGE(IN1_DT)* k, const uint row, const uint d) {
#if DH % 4 == 0
  return LOAD4(IN1_DT, k, row + d);
#else
  float4 x = (float4)(0.0f);
  if (d < DH) x.s0 = LOAD(IN1_DT, k, row + d);
  if (d + 1 < DH) x.s1 = LOAD(IN1_DT, k, row + d + 1);
  if (d + 2 < DH) x.s2 = LOAD(IN1_DT, k, row + d + 2);
  if (d + 3 < DH) x.s3 = LOAD(IN1_DT, k, row + d + 3);
  return x;
#endif
}

// V values of this work-item for its team's keys [j0, j0 + V_KEYS) and the
// tile from feature d0: v[j * PER_LANE + e] is key j0 + j, feature
// d0 + lane + e * TEAM (zero past the block or Dh).
void load_v(const __global STORAGE(IN2_DT)* vs, const Block b, const uint d0, const uint j0, float* v) {
  const uint lane = get_local_id(0) % TEAM, first = get_local_id(0) / TEAM * TEAM + j0;
  for (uint j = 0; j < V_KEYS; ++j) {
    for (uint e = 0; e < PER_LANE; ++e) {
      const uint d = d0 + lane + e * TEAM;
      const bool live = j0 + j < TEAM && first + j < b.count && d < DH;
      v[j * PER_LANE + e] = live ? LOAD(IN2_DT, vs, b.kv_base + (first + j) * KV_STRIDE + d) : 0.0f;
    }
  }
}

// This work-item's key against the round's heads, into scores[head][key]
// (-inf past the block's keys).
void score_key(const __global STORAGE(IN1_DT)* k, const Block b, float4* k_row, __local const float4* q_rows,
               __local float* scores) {
  const uint key = get_local_id(0);
  float score[ROUND_HEADS];
  for (uint h = 0; h < ROUND_HEADS; ++h) score[h] = 0.0f;
  for (uint c0 = 0; c0 < DH4; c0 += K_VEC4) {
#if !K_EARLY
    for (uint c = 0; c < K_VEC4; ++c) {
      k_row[c] = key < b.count && c0 + c < DH4 ? load_k4(k, b.kv_base + key * KV_STRIDE, (c0 + c) * 4) : (float4)(0.0f);
    }
#endif
    for (uint c = 0; c < K_VEC4 && c0 + c < DH4; ++c) {
      for (uint h = 0; h < ROUND_HEADS; ++h) score[h] += dot(q_rows[h * DH4 + c0 + c], k_row[c]);
    }
  }
  for (uint h = 0; h < ROUND_HEADS; ++h) scores[h * DECODE_KEYS + key] = key < b.count ? score[h] : -INFINITY;
}

// Each work-item's key's probability relative to its team's max, into
// probs[head][key]; the team's max per head into |team_m|. After the
// scores' barrier.
void team_softmax(const Block b, __local const float* scores, __local float* probs, float* team_m) {
  const uint key = get_local_id(0), first = key / TEAM * TEAM;
  for (uint h = 0; h < ROUND_HEADS; ++h) {
    float m = -INFINITY;
    for (uint j = 0; j < TEAM; ++j) m = fmax(m, scores[h * DECODE_KEYS + first + j]);
    team_m[h] = m;  // -inf for a team with no live key
    probs[h * DECODE_KEYS + key] = key < b.count ? exp(scores[h * DECODE_KEYS + key] - m) : 0.0f;
  }
}

// The team's keys times V for the tile from d0, into the exchange, with the
// team's max and sum per head. After the probabilities' barrier.
void team_pv(const __global STORAGE(IN2_DT)* vs, const Block b, const uint d0, float* v, const float* team_m,
             __local const float* probs, __local float* parts, __local float* team_max, __local float* team_sum) {
  const uint team = get_local_id(0) / TEAM, lane = get_local_id(0) % TEAM, first = team * TEAM;
  float acc[ROUND_HEADS * PER_LANE], sum[ROUND_HEADS];
  for (uint i = 0; i < ROUND_HEADS * PER_LANE; ++i) acc[i] = 0.0f;
  for (uint h = 0; h < ROUND_HEADS; ++h) sum[h] = 0.0f;
  for (uint j0 = 0; j0 < TEAM; j0 += V_KEYS) {
#if !V_EARLY
    load_v(vs, b, d0, j0, v);
#endif
    for (uint j = 0; j < V_KEYS && j0 + j < TEAM; ++j) {
      for (uint h = 0; h < ROUND_HEADS; ++h) {
        const float p = probs[h * DECODE_KEYS + first + j0 + j];
        sum[h] += p;
        for (uint e = 0; e < PER_LANE; ++e) acc[h * PER_LANE + e] += p * v[j * PER_LANE + e];
      }
    }
  }
  for (uint h = 0; h < ROUND_HEADS; ++h) {
    for (uint e = 0; e < PER_LANE; ++e) {
      parts[(team * ROUND_HEADS + h) * FEATURE_TILE + lane + e * TEAM] = acc[h * PER_LANE + e];
    }
    if (lane == 0) {
      team_max[team * ROUND_HEADS + h] = team_m[h];
      team_sum[team * ROUND_HEADS + h] = sum[h];
    }
  }
}

// After the exchange: each output of the round's tile combined over the
// teams, to the output (one live block) or to the block's partial.
void combine_teams(__global STORAGE(OUT0_DT)* out, volatile __global uint* scratch, const Block b, const uint h0,
                   const uint d0, __local const float* parts, __local const float* team_max,
                   __local const float* team_sum) {
  for (uint o = get_local_id(0); o < ROUND_HEADS * FEATURE_TILE; o += WG) {
    const uint h = o / FEATURE_TILE, td = o % FEATURE_TILE, d = d0 + td, head = h0 + h;
    if (d >= DH || head >= GROUP) continue;
    float m = -INFINITY;
    for (uint s = 0; s < TEAMS; ++s) m = fmax(m, team_max[s * ROUND_HEADS + h]);
    float l = 0.0f, acc = 0.0f;
    for (uint s = 0; s < TEAMS; ++s) {
      const float w = exp(team_max[s * ROUND_HEADS + h] - m);  // 0 for a team with no live key
      l += w * team_sum[s * ROUND_HEADS + h];
      acc += w * parts[(s * ROUND_HEADS + h) * FEATURE_TILE + td];
    }
    if (b.live == 1) {
      STORE(OUT0_DT, out, b.q_base + head * DH + d, acc / l);
      continue;
    }
    volatile __global uint* partial = scratch + b.record + 4 + (b.block * GROUP + head) * (DH + 2);
    partial[2 + d] = as_uint(acc);
    if (d == 0) {
      partial[0] = as_uint(m);
      partial[1] = as_uint(l);
    }
  }
}

// The last block of a (t, kv head): every block's partial, combined. Each
// output's loads of 8 blocks are issued together.
void combine_blocks(__global STORAGE(OUT0_DT)* out, volatile __global const uint* scratch, const Block b) {
  for (uint o = get_local_id(0); o < GROUP * DH; o += WG) {
    const uint head = o / DH, d = o % DH;
    float m = -INFINITY, l = 0.0f, acc = 0.0f;
    for (uint b0 = 0; b0 < b.live; b0 += 8) {
      float bm[8], bl[8], bo[8];
      for (uint u = 0; u < 8; ++u) {
        volatile __global const uint* partial =
            scratch + b.record + 4 + (min(b0 + u, b.live - 1) * GROUP + head) * (DH + 2);
        bm[u] = as_float(partial[0]);
        bl[u] = as_float(partial[1]);
        bo[u] = as_float(partial[2 + d]);
      }
      for (uint u = 0; u < 8 && b0 + u < b.live; ++u) {
        const float next = fmax(m, bm[u]);
        const float old_w = exp(m - next), w = exp(bm[u] - next);  // m = -inf at first: old_w = 0
        l = l * old_w + bl[u] * w;
        acc = acc * old_w + bo[u] * w;
        m = next;
      }
    }
    STORE(OUT0_DT, out, b.q_base + o, acc / l);
  }
}

// Work-group |g|'s block, for |rows| query rows after |past| cached ones
// and a cache of |capacity| rows (step arguments are the kernel's only).
Block locate(const uint g, const uint rows, const uint past, const uint capacity) {
  Block b;
  const uint blocks = (capacity + DECODE_KEYS - 1) / DECODE_KEYS;
  b.block = g % blocks;
  b.kv_head = g / blocks % HKV;
  b.t = g / blocks / HKV;
  const uint limit = CAUSAL ? past + b.t + 1 : past + rows;
  b.live = (limit + DECODE_KEYS - 1) / DECODE_KEYS;
  b.count = b.block < b.live ? min((uint)DECODE_KEYS, limit - b.block * DECODE_KEYS) : 0;
  b.kv_base = b.block * DECODE_KEYS * KV_STRIDE + b.kv_head * DH;
  b.q_base = (b.t * HQ + b.kv_head * GROUP) * DH;
  b.record = (b.t * HKV + b.kv_head) * (4 + blocks * GROUP * (DH + 2));
  return b;
}

__kernel void attention_decode(KILN_PARAMS) {
  __local float4 q_rows[ROUND_HEADS * DH4];            // the round's query rows, scaled, zero-padded
  __local float scores[ROUND_HEADS * DECODE_KEYS];     // [head][key]
  __local float probs[ROUND_HEADS * DECODE_KEYS];      // [head][key], relative to the key's team max
  __local float parts[TEAMS * ROUND_HEADS * FEATURE_TILE];     // [team][head][feature of the tile]
  __local float team_max[TEAMS * ROUND_HEADS];
  __local float team_sum[TEAMS * ROUND_HEADS];
  __local int is_last;
  __local float* q_flat = (__local float*)q_rows;
  volatile __global uint* scratch = (volatile __global uint*)SCRATCH;
  const uint lid = get_local_id(0);
  const Block b = locate(get_group_id(0), T, PAST, IN1_D0);
  if (b.block < b.live) {  // uniform: blocks past this step's keys do nothing
    // One round trip: the first round's q, this work-item's K row and
    // (where they fit) its V values, all issued before any is used.
    float q_first[(Q_ELEMS + WG - 1) / WG];
    for (uint r = 0; r < (Q_ELEMS + WG - 1) / WG; ++r) {
      const uint i = lid + r * WG;
      q_first[r] = i < Q_ELEMS ? q_value(IN(0), b, 0, i) : 0.0f;
    }
    float4 k_row[K_VEC4];
#if K_EARLY
    for (uint c = 0; c < DH4; ++c) {
      k_row[c] = lid < b.count ? load_k4(IN(1), b.kv_base + lid * KV_STRIDE, c * 4) : (float4)(0.0f);
    }
#endif
    float v[V_REGS];
#if V_EARLY
    load_v(IN(2), b, 0, 0, v);
#endif
    for (uint r = 0; r < (Q_ELEMS + WG - 1) / WG; ++r) {
      const uint i = lid + r * WG;
      if (i < Q_ELEMS) q_flat[i] = q_first[r];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h0 = 0; h0 < GROUP; h0 += ROUND_HEADS) {
      if (h0 > 0) {
        for (uint i = lid; i < Q_ELEMS; i += WG) q_flat[i] = q_value(IN(0), b, h0, i);
        barrier(CLK_LOCAL_MEM_FENCE);
      }
      score_key(IN(1), b, k_row, q_rows, scores);
      barrier(CLK_LOCAL_MEM_FENCE);
      float team_m[ROUND_HEADS];
      team_softmax(b, scores, probs, team_m);
      barrier(CLK_LOCAL_MEM_FENCE);
      for (uint d0 = 0; d0 < DH; d0 += FEATURE_TILE) {
        team_pv(IN(2), b, d0, v, team_m, probs, parts, team_max, team_sum);
        barrier(CLK_LOCAL_MEM_FENCE);
        combine_teams(OUT(0), scratch, b, h0, d0, parts, team_max, team_sum);
        // The next round reuses the exchange (and, in the next head round, q and the scores).
        if (h0 + ROUND_HEADS < GROUP || d0 + FEATURE_TILE < DH) barrier(CLK_LOCAL_MEM_FENCE);
      }
    }
    if (b.live > 1) {
      // Release: each work-item's partial writes before the count; acquire:
      // the last block fences again before reading the other blocks'.
      mem_fence(CLK_GLOBAL_MEM_FENCE);
      barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
      if (lid == 0) {
        mem_fence(CLK_GLOBAL_MEM_FENCE);
        is_last = atomic_inc(scratch + b.record) + 1 == b.live;
      }
      barrier(CLK_LOCAL_MEM_FENCE);
      if (is_last) {  // the same in every work-item: read from local memory
        mem_fence(CLK_GLOBAL_MEM_FENCE);
        combine_blocks(OUT(0), scratch, b);
        // The scratch's layout follows S, which moves from step to step where
        // k is not a cache (its rows symbolic; a literal or a step argument
        // looks the same here): leave every partial zero, as the host filled
        // it, so no later step finds a partial where it expects a counter.
        barrier(CLK_GLOBAL_MEM_FENCE);
        for (uint i = lid; i < b.live * GROUP * (DH + 2); i += WG) scratch[b.record + 4 + i] = 0;
        if (lid == 0) atomic_xchg(scratch + b.record, 0);  // every block has counted: 0 for the next step
      }
    }
  }
}
