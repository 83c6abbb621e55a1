// attention(q[T, Hq, Dh], k[S, Hkv, Dh], v[S, Hkv, Dh]) -> [T, Hq, Dh]: one
// work-group per (query row t, head h), reading kv head h / (Hq / Hkv)
// (grouped-query). Keys [0, PAST + T) are valid; query t sits at position
// PAST + t and, when CAUSAL, sees keys <= PAST + t. Scores are SCALE * q.k
// (SCALE 0: 1 / sqrt(Dh)). Keys go by blocks of WG, one per work-item; an
// online softmax (running max and sum) rescales the output, whose Dh
// features are spread over the work-items. All in f32.
#ifndef PAST
#error "attention needs the step parameter 'past' (the slot P)"
#endif

#define T IN0_D0
#define HQ IN0_D1
#define DH IN0_D2
#define HKV IN1_D1
#define PER_ITEM ((DH + WG - 1) / WG)

__kernel void attention_workgroup(KILN_PARAMS) {
  __local float q[DH];
  __local float weights[WG];
  __local float scratch[WG];
  const uint lid = get_local_id(0);
  const size_t t = get_group_id(0) / HQ, h = get_group_id(0) % HQ;
  const size_t kv_head = h / (HQ / HKV);
  const float scale = SCALE == 0.0 ? rsqrt((float)DH) : (float)SCALE;
  const size_t visible = CAUSAL ? PAST + t + 1 : PAST + T;
  for (uint d = lid; d < DH; d += WG) q[d] = LOAD(IN0_DT, IN(0), (t * HQ + h) * DH + d) * scale;
  barrier(CLK_LOCAL_MEM_FENCE);
  float acc[PER_ITEM];
  for (int e = 0; e < PER_ITEM; ++e) acc[e] = 0.0f;
  float running_max = -INFINITY, running_sum = 0.0f;
  for (size_t j0 = 0; j0 < visible; j0 += WG) {
    const size_t j = j0 + lid;
    float score = -INFINITY;
    if (j < visible) {
      const __global STORAGE(IN1_DT)* key = IN(1) + (j * HKV + kv_head) * DH;
      score = 0.0f;
      for (uint d = 0; d < DH; ++d) score += q[d] * LOAD(IN1_DT, key, d);
    }
    const float block_max = fmax(running_max, group_max(score, scratch));
    const float weight = j < visible ? exp(score - block_max) : 0.0f;
    weights[lid] = weight;
    const float rescale = exp(running_max - block_max);
    running_sum = running_sum * rescale + group_sum(weight, scratch);
    running_max = block_max;
    const size_t block = min((size_t)WG, visible - j0);
    for (int e = 0; e < PER_ITEM; ++e) {
      const uint d = lid + e * WG;
      if (d >= DH) break;
      float sum = acc[e] * rescale;
      for (size_t jj = 0; jj < block; ++jj) sum += weights[jj] * LOAD(IN2_DT, IN(2), ((j0 + jj) * HKV + kv_head) * DH + d);
      acc[e] = sum;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  for (int e = 0; e < PER_ITEM; ++e) {
    const uint d = lid + e * WG;
    if (d < DH) STORE(OUT0_DT, OUT(0), (t * HQ + h) * DH + d, acc[e] / running_sum);
  }
}
