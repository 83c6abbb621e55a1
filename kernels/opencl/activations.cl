// Follows kernels/elementwise_ops.h in every kernel source: its rows become
// the functions op_<name>, and gated kernels get activation().

KILN_ELEMENTWISE_OPS(KILN_OCL_UNARY, KILN_OCL_BINARY, KILN_OCL_SCALED)

// The gate of fused_gate_up and fused_ffn: ACT numbers the registry's
// {silu, gelu}, APPROXIMATE gelu's {none, tanh}.
#if defined(ACT) && defined(APPROXIMATE)
float activation(float x) {
#if ACT == 1 && APPROXIMATE == 1
  return op_gelu_tanh(x);
#elif ACT == 1
  return op_gelu(x);
#else
  return op_silu(x);
#endif
}
#endif
