// The elementwise math for the shaders: the rows of kernels/elementwise_ops.h
// (written once for C++, OpenCL C and GLSL) expanded into op_<name>
// functions, with the erf that GLSL lacks. Math is f32.

// erf by Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7).
float erf(float x) {
  float t = 1.0 / (1.0 + 0.3275911 * abs(x));
  float poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-x * x));
}

#include "kernels/elementwise_ops.h"
#define KILN_GLSL_UNARY(name, expr) float op_##name(float x) { return expr; }
#define KILN_GLSL_BINARY(name, expr) float op_##name(float a, float b) { return expr; }
#define KILN_GLSL_SCALED(name, expr) float op_##name(float x, float s) { return expr; }
KILN_ELEMENTWISE_OPS(KILN_GLSL_UNARY, KILN_GLSL_BINARY, KILN_GLSL_SCALED)

// The gated activations of the fused ops: act numbers the registry's
// {silu, gelu} and approximate its {none, tanh}.
#define ACT_SILU 0
#define ACT_GELU 1
#define APPROXIMATE_TANH 1
float activation(int act, int approximate, float x) {
  if (act == ACT_GELU) return approximate == APPROXIMATE_TANH ? op_gelu_tanh(x) : op_gelu(x);
  return op_silu(x);
}
