#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "rope.glsl"
// rope(x[T, H, Dh]) at positions P + t: one invocation per rotated pair or
// passed-through feature of each (t, h), so it may run in place. Pairs are
// (2i, 2i + 1) when interleaved, else (i, i + rotary_dim / 2); frequencies
// as rope.glsl gives them.
DTYPE(in0_dtype, 10)
DTYPE(out0_dtype, 11)
EXTENT(in0_d0, 12)
layout(constant_id = 14) const int in0_d1 = 1;
layout(constant_id = 15) const int in0_d2 = 1;
layout(constant_id = 16) const float theta = 10000.0;
layout(constant_id = 17) const int rotary_dim = 0;
layout(constant_id = 18) const bool interleaved = false;
layout(constant_id = 19) const float scaling_factor = 1.0;
layout(constant_id = 20) const float scaling_low_freq_factor = 1.0;
layout(constant_id = 21) const float scaling_high_freq_factor = 4.0;
layout(constant_id = 22) const int scaling_original_context = 0;

void main() {
  uint half_ = uint(rotary_dim) / 2u;
  uint per_head = uint(in0_d2) - half_;  // pairs, then passed-through features
  uint i = global_index();
  uint heads = uint(in0_d1);
  if (i >= EXT(in0_d0) * heads * per_head) return;
  uint j = i % per_head;
  uint head_row = i / per_head;  // t * H + h
  uint t = head_row / heads;
  uint base = head_row * uint(in0_d2);
  if (j >= half_) {
    uint e = base + j + half_;
    store(OUT(0), out0_dtype, e, load(IN(0), in0_dtype, e));
    return;
  }
  uint first = base + (interleaved ? 2u * j : j);
  uint second = base + (interleaved ? 2u * j + 1u : j + half_);
  float angle = float(past() + t) * rope_inverse_frequency(j, theta, rotary_dim, scaling_factor, scaling_low_freq_factor,
                                                          scaling_high_freq_factor, scaling_original_context);
  float c = cos(angle), s = sin(angle);
  float x1 = load(IN(0), in0_dtype, first), x2 = load(IN(0), in0_dtype, second);
  store(OUT(0), out0_dtype, first, x1 * c - x2 * s);
  store(OUT(0), out0_dtype, second, x2 * c + x1 * s);
}
