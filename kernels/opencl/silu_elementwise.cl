// silu(x): one work-item per element.
__kernel void silu_elementwise(KILN_PARAMS) {
  const size_t i = get_global_id(0);
  if (i >= OUT0_COUNT) return;
  STORE(OUT0_DT, OUT(0), i, op_silu(LOAD(IN0_DT, IN(0), i)));
}
