// rmsnorm_qkv_rope(x[T, K], g, wq, wk, wv, k_cache[S, Hkv, Dh], v_cache
// [, bq, bk, bv]) -> (q[T, Hq, Dh], k_cache, v_cache) for few rows
// (decode): n = rmsnorm(x, g); q = n @ wq (+ bq) rotated at position
// PAST + t; k = n @ wk (+ bk) rotated and v = n @ wv (+ bv) written into
// row PAST + t of the caches (results 1 and 2 are the caches' storage).
//
// matmul_qkv_gemv's split over q, k and v laid end to end (prelude.cl's
// gemv teams; built with GEMV_SUBGROUP 1 by
// rmsnorm_qkv_rope_gemv_subgroup.cl), with the norm in the prologue
// (KILN_DEFINE_NORM_DOT), except that a team computes the two columns of a
// rope pair, so its epilogue can rotate them. Each head of q, k and v is cut
// into pairs: rope's rotated pairs first, (2i, 2i + 1) when INTERLEAVED
// else (i, i + ROTARY_DIM / 2), then the passed-through features two by two
// (the last alone when HEAD_DIM is odd); v's heads take the same cut and
// are not rotated. kernels/opencl/kernel_table.cc launches per row
// ceil(PAIRS / GEMV_OUTPUTS) work-groups.
#ifndef PAST
#error "rmsnorm_qkv_rope needs the step parameter 'past' (the slot P)"
#endif

#include "rope_frequency.cl"

KILN_DEFINE_NORM_DOT(2, 2)
KILN_DEFINE_NORM_DOT(3, 3)
KILN_DEFINE_NORM_DOT(4, 4)

#define ROTATED_PAIRS (ROTARY_DIM / 2)
#define PAIRS_PER_HEAD (ROTATED_PAIRS + (HEAD_DIM - ROTARY_DIM + 1) / 2)
#define PAIRS ((NQ + NK + NV) / HEAD_DIM * PAIRS_PER_HEAD)

// Feature |which| (0 or 1) of pair i of a head; HEAD_DIM for the missing
// second feature of an odd head's last pair.
uint pair_feature(const uint i, const uint which) {
  if (i < ROTATED_PAIRS) return INTERLEAVED ? 2 * i + which : i + which * ROTATED_PAIRS;
  return ROTARY_DIM + 2 * (i - ROTATED_PAIRS) + which;
}

// The epilogue: the bias of weight segment B (inputs 7, 8, 9), and the
// store into output S at row offset |at|, for the pair's one or two columns.
#if INPUTS == 10
#define ADD_BIAS(B)                              \
  do {                                           \
    y0 += LOAD(IN##B##_DT, IN(B), n0);           \
    if (both) y1 += LOAD(IN##B##_DT, IN(B), n1); \
  } while (0)
#else
#define ADD_BIAS(B) \
  do {              \
  } while (0)
#endif
#define STORE_PAIR(S, at)                                \
  do {                                                   \
    STORE(OUT##S##_DT, OUT(S), (at) + n0, y0);           \
    if (both) STORE(OUT##S##_DT, OUT(S), (at) + n1, y1); \
  } while (0)

__kernel void GEMV_ENTRY(rmsnorm_qkv_rope)(KILN_PARAMS) {
  __local float4 scratch[WG];
  const size_t row = gemv_row(PAIRS);
  const __global STORAGE(IN0_DT)* x = IN(0) + row * IN0_COLS;
  GEMV_FOR_EACH_OUTPUT(t) {
    const uint pair = gemv_first_output(PAIRS) + t;
    const uint head = pair / PAIRS_PER_HEAD, i = pair % PAIRS_PER_HEAD;
    const uint d0 = pair_feature(i, 0), d1 = pair_feature(i, 1);
    const bool both = d1 < HEAD_DIM;
    // The head's segment (0: q, 1: k, 2: v) and the pair's columns there.
    const uint column = head * HEAD_DIM;
    const int seg = column < NQ ? 0 : (column < NQ + NK ? 1 : 2);
    const uint start = column - (seg == 0 ? 0 : (seg == 1 ? NQ : NQ + NK));
    const uint n0 = start + d0, n1 = both ? start + d1 : n0;
    const uint lane = GEMV_LANE, lanes = GEMV_TEAM_SIZE;
    float4 acc = (float4)(0.0f);
    if (pair < PAIRS && seg == 0) {
      acc = norm_dot_in2_in2(x, IN(1), IN(2), n0, IN(2), n1, both, NQ, lane, lanes);
    } else if (pair < PAIRS && seg == 1) {
      acc = norm_dot_in3_in3(x, IN(1), IN(3), n0, IN(3), n1, both, NK, lane, lanes);
    } else if (pair < PAIRS) {
      acc = norm_dot_in4_in4(x, IN(1), IN(4), n0, IN(4), n1, both, NV, lane, lanes);
    }
    acc = GEMV_SUM4(acc, scratch);
    if (lane == 0 && pair < PAIRS) {
      const float scale = norm_scale(acc.z);
      float y0 = acc.x * scale, y1 = acc.y * scale;
      if (seg == 0) {
        ADD_BIAS(7);
      } else if (seg == 1) {
        ADD_BIAS(8);
      } else {
        ADD_BIAS(9);
      }
      if (seg < 2 && i < ROTATED_PAIRS) rope_rotate((int)(PAST + row), i, &y0, &y1);
      if (seg == 0) {
        STORE_PAIR(0, row * NQ);
      } else if (seg == 1) {
        STORE_PAIR(1, (PAST + row) * NK);
      } else {
        STORE_PAIR(2, (PAST + row) * NV);
      }
    }
  }
}
