// kv_write(cache[S, Hkv, Dh], x[T, Hkv, Dh]) writes x into rows
// [PAST, PAST + T) of the cache (result 0 is the cache's own storage),
// converting to the cache's dtype. One work-item per element of x.
#ifndef PAST
#error "kv_write needs the step parameter 'past' (the slot P)"
#endif

__kernel void kv_write_elementwise(KILN_PARAMS) {
  const size_t i = get_global_id(0);
  if (i >= IN1_COUNT) return;
  const size_t at = (size_t)PAST * IN1_D1 * IN1_D2 + i;
  STORE(OUT0_DT, OUT(0), at, LOAD(IN1_DT, IN(1), i));
}
