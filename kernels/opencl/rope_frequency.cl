// Not a kernel: rope's frequencies, included by the kernels that rotate
// (rope_elementwise.cl, rmsnorm_qkv_rope_gemv.cl). Reads rope's constants
// THETA, ROTARY_DIM and the SCALING_* ones. Angles are computed in double
// where the device has it (a position times a frequency loses too much in
// float at long contexts).
#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double angle_t;
#else
typedef float angle_t;
#endif

// inv_freq[i] = THETA^(-2i / ROTARY_DIM), Llama 3-scaled when
// SCALING_ORIGINAL_CONTEXT > 0.
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

// Rotates (*x1, *x2) by position times frequency i.
void rope_rotate(const int position, const int i, float* x1, float* x2) {
  const angle_t angle = (angle_t)position * inverse_frequency(i);
  const float c = (float)cos(angle), s = (float)sin(angle);
  const float a = *x1, b = *x2;
  *x1 = a * c - b * s;
  *x2 = b * c + a * s;
}
