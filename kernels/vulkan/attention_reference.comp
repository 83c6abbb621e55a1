#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// attention(q[T, Hq, Dh], k[S, Hkv, Dh], v[S, Hkv, Dh]) -> [T, Hq, Dh] over
// KV rows [0, P + T); query t sits at position P + t and, when causal, sees
// keys at positions <= P + t. Query head h reads kv head h / (Hq / Hkv).
// One workgroup per (t, h): keys in chunks of wg_size, one key per
// invocation, with an online softmax (running max and sum), so any context
// length fits; each invocation accumulates the output features
// lane + r * wg_size, Dh <= 4 * wg_size. Serves prefill and decode.
#include "reduce.glsl"
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

const int kMaxPerLane = 4;
shared float q_row[in0_d2];
shared float weights[wg_size];

void main() {
  uint rows = EXT(in0_d0);
  uint heads = uint(in0_d1), dim = uint(in0_d2), kv_heads = uint(in1_d1);
  uint g = group_index();
  if (g >= rows * heads) return;
  uint lane = gl_LocalInvocationID.x, wg = uint(wg_size);
  uint t = g / heads, h = g % heads;
  uint kv_head = h / (heads / kv_heads);
  uint kv_stride = kv_heads * dim;
  uint limit = causal ? past() + t + 1u : past() + rows;
  float s = scale == 0.0 ? inversesqrt(float(dim)) : scale;
  for (uint d = lane; d < dim; d += wg) q_row[d] = load(IN(0), in0_dtype, g * dim + d) * s;
  barrier();
  float running_max = -1.0 / 0.0, running_sum = 0.0;
  float acc[kMaxPerLane] = float[kMaxPerLane](0.0, 0.0, 0.0, 0.0);
  for (uint chunk = 0u; chunk < limit; chunk += wg) {
    uint j = chunk + lane;
    float score = -1.0 / 0.0;
    if (j < limit) {
      score = 0.0;
      uint base = j * kv_stride + kv_head * dim;
      for (uint d = 0u; d < dim; ++d) score += q_row[d] * load(IN(1), in1_dtype, base + d);
    }
    float new_max = max(running_max, workgroup_max(score));
    float p = j < limit ? exp(score - new_max) : 0.0;
    weights[lane] = p;
    float correction = exp(running_max - new_max);
    running_sum = running_sum * correction + workgroup_sum(p);  // its barriers publish weights[]
    uint count = min(wg, limit - chunk);
    for (int r = 0; r < kMaxPerLane; ++r) {
      uint d = lane + uint(r) * wg;
      if (d >= dim) break;
      float a = acc[r] * correction;
      for (uint jj = 0u; jj < count; ++jj) a += weights[jj] * load(IN(2), in2_dtype, (chunk + jj) * kv_stride + kv_head * dim + d);
      acc[r] = a;
    }
    running_max = new_max;
    barrier();  // weights[] is rewritten by the next chunk
  }
  for (int r = 0; r < kMaxPerLane; ++r) {
    uint d = lane + uint(r) * wg;
    if (d >= dim) break;
    store(OUT(0), out0_dtype, g * dim + d, acc[r] / running_sum);
  }
}
