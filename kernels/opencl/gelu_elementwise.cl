// gelu(x), erf form or (APPROXIMATE == 1) tanh form: one work-item per
// element.
__kernel void gelu_elementwise(KILN_PARAMS) {
  const size_t i = get_global_id(0);
  if (i >= OUT0_COUNT) return;
  const float x = LOAD(IN0_DT, IN(0), i);
#if APPROXIMATE == 1
  STORE(OUT0_DT, OUT(0), i, op_gelu_tanh(x));
#else
  STORE(OUT0_DT, OUT(0), i, op_gelu(x));
#endif
}
