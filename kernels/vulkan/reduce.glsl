// Workgroup-wide reductions through shared memory. Every invocation of the
// workgroup must call them (they contain barriers); wg_size must be a power
// of two.
shared float reduce_scratch[wg_size];

float workgroup_sum(float x) {
  uint lane = gl_LocalInvocationID.x;
  barrier();
  reduce_scratch[lane] = x;
  barrier();
  for (uint stride = uint(wg_size) / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) reduce_scratch[lane] += reduce_scratch[lane + stride];
    barrier();
  }
  return reduce_scratch[0];
}

float workgroup_max(float x) {
  uint lane = gl_LocalInvocationID.x;
  barrier();
  reduce_scratch[lane] = x;
  barrier();
  for (uint stride = uint(wg_size) / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) reduce_scratch[lane] = max(reduce_scratch[lane], reduce_scratch[lane + stride]);
    barrier();
  }
  return reduce_scratch[0];
}
