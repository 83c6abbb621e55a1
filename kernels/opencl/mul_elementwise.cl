// a * b, b's shape a suffix of a's (b repeats over a's leading dims): one
// work-item per element.
__kernel void mul_elementwise(KILN_PARAMS) {
  const size_t i = get_global_id(0);
  if (i >= OUT0_COUNT) return;
  STORE(OUT0_DT, OUT(0), i, op_mul(LOAD(IN0_DT, IN(0), i), LOAD(IN1_DT, IN(1), i % IN1_COUNT)));
}
