// rope(x[T, H, Dh]) rotates pairs of the first ROTARY_DIM features of each
// head of row t by the angle (PAST + t) * inv_freq[i], inv_freq[i] =
// THETA^(-2i / ROTARY_DIM), Llama 3-scaled when SCALING_ORIGINAL_CONTEXT > 0.
// Pairs are (2i, 2i + 1) when INTERLEAVED, else (i, i + ROTARY_DIM / 2);
// features past ROTARY_DIM pass through. One work-item per pair or
// passed-through feature; the frequencies and the rotation are
// rope_frequency.cl's (angles in double where the device has it).
#ifndef PAST
#error "rope needs the step parameter 'past' (the slot P)"
#endif

#include "rope_frequency.cl"

#define HALF (ROTARY_DIM / 2)
#define PASSED (IN0_D2 - ROTARY_DIM)

__kernel void rope_elementwise(KILN_PARAMS) {
  const size_t item = get_global_id(0);
  if (item >= (size_t)IN0_ROWS * (HALF + PASSED)) return;
  const size_t head_row = item / (HALF + PASSED);  // t * H + h
  const int j = item % (HALF + PASSED);
  const size_t base = head_row * IN0_D2;
  if (j >= HALF) {
    const size_t at = base + ROTARY_DIM + (j - HALF);
    STORE(OUT0_DT, OUT(0), at, LOAD(IN0_DT, IN(0), at));
    return;
  }
  const size_t t = head_row / IN0_D1;
  const size_t first = base + (INTERLEAVED ? 2 * j : j);
  const size_t second = base + (INTERLEAVED ? 2 * j + 1 : j + HALF);
  float x1 = LOAD(IN0_DT, IN(0), first), x2 = LOAD(IN0_DT, IN(0), second);
  rope_rotate((int)(PAST + t), j, &x1, &x2);
  STORE(OUT0_DT, OUT(0), first, x1);
  STORE(OUT0_DT, OUT(0), second, x2);
}
