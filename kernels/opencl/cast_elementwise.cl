// cast(x) to the result's dtype: one work-item per element. Equal dtypes copy
// the bits (i32 stays exact); otherwise the value goes through f32 and is
// rounded to nearest even, or toward zero into i32.
__kernel void cast_elementwise(KILN_PARAMS) {
  const size_t i = get_global_id(0);
  if (i >= OUT0_COUNT) return;
#define KILN_SAME_DT_f32_f32 1
#define KILN_SAME_DT_f16_f16 1
#define KILN_SAME_DT_bf16_bf16 1
#define KILN_SAME_DT_i32_i32 1
#if KILN_CAT(KILN_CAT(KILN_CAT(KILN_SAME_DT_, IN0_DT), _), OUT0_DT)
  OUT(0)[i] = IN(0)[i];
#else
  STORE(OUT0_DT, OUT(0), i, LOAD(IN0_DT, IN(0), i));
#endif
}
