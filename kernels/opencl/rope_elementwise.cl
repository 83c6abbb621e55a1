// rope(x[T, H, Dh]) rotates pairs of the first ROTARY_DIM features of each
// head of row t by the angle (PAST + t) * inv_freq[i], inv_freq[i] =
// THETA^(-2i / ROTARY_DIM), Llama 3-scaled when SCALING_ORIGINAL_CONTEXT > 0.
// Pairs are (2i, 2i + 1) when INTERLEAVED, else (i, i + ROTARY_DIM / 2);
// features past ROTARY_DIM pass through. One work-item per pair or
// passed-through feature; angles in double where the device has it (a
// position times a frequency loses too much in float at long contexts).
#ifndef PAST
#error "rope needs the step parameter 'past' (the slot P)"
#endif

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double angle_t;
#else
typedef float angle_t;
#endif

#define HALF (ROTARY_DIM / 2)
#define PASSED (IN0_D2 - ROTARY_DIM)

angle_t inverse_frequency(const int i) {
  angle_t inv_freq = 1.0 / pow((angle_t)THETA, (angle_t)(2 * i) / (angle_t)ROTARY_DIM);
#if SCALING_ORIGINAL_CONTEXT > 0
  // Llama 3: wavelengths longer than context / low_freq_factor slow down by
  // the factor, those shorter than context / high_freq_factor stay, and
  // those between blend smoothly (HF's _compute_llama3_parameters).
  const angle_t context = (angle_t)SCALING_ORIGINAL_CONTEXT;
  const angle_t wavelen = 2.0 * M_PI / inv_freq;
  if (wavelen > context / SCALING_LOW_FREQ_FACTOR) return inv_freq / SCALING_FACTOR;
  if (wavelen < context / SCALING_HIGH_FREQ_FACTOR) return inv_freq;
  const angle_t smooth =
      (context / wavelen - SCALING_LOW_FREQ_FACTOR) / (SCALING_HIGH_FREQ_FACTOR - SCALING_LOW_FREQ_FACTOR);
  inv_freq = (1.0 - smooth) * inv_freq / SCALING_FACTOR + smooth * inv_freq;
#endif
  return inv_freq;
}

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
  const angle_t angle = (angle_t)(PAST + t) * inverse_frequency(j);
  const float c = (float)cos(angle), s = (float)sin(angle);
  const size_t first = base + (INTERLEAVED ? 2 * j : j);
  const size_t second = base + (INTERLEAVED ? 2 * j + 1 : j + HALF);
  const float x1 = LOAD(IN0_DT, IN(0), first), x2 = LOAD(IN0_DT, IN(0), second);
  STORE(OUT0_DT, OUT(0), first, x1 * c - x2 * s);
  STORE(OUT0_DT, OUT(0), second, x2 * c + x1 * s);
}
