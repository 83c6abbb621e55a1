/* The elementwise math of every backend, written once (DESIGN.md: "elementwise
 * math written once for all three languages"). An activation or pointwise op
 * is one row here; the cpu kernels (C++), the OpenCL C sources and the GLSL
 * shaders expand the rows into their own functions:
 *
 *   #define UNARY(name, expr) float op_##name(float x) { return expr; }
 *   #define BINARY(name, expr) float op_##name(float a, float b) { return expr; }
 *   #define SCALED(name, expr) float op_##name(float x, float s) { return expr; }
 *   KILN_ELEMENTWISE_OPS(UNARY, BINARY, SCALED)
 *
 * A row's expression reads x (unary), a and b (binary) or x and the op's
 * real attribute s (scaled), and is written in the subset the three
 * languages share: unsuffixed literals (the cpu computes in double; OpenCL
 * builds with -cl-single-precision-constant; GLSL literals are float), exp,
 * tanh, erf (GLSL has none: a shader defines its own erf before expanding the
 * rows), arithmetic and the ternary operator. No commas outside a call's
 * parentheses: a row is a macro argument. */
#ifndef KILN_KERNELS_ELEMENTWISE_OPS_H_
#define KILN_KERNELS_ELEMENTWISE_OPS_H_

#define KILN_ELEMENTWISE_OPS(KILN_UNARY, KILN_BINARY, KILN_SCALED)                          \
  KILN_UNARY(silu, x / (1.0 + exp(-x)))                                                     \
  KILN_UNARY(gelu, 0.5 * x * (1.0 + erf(x * 0.7071067811865476)))                           \
  KILN_UNARY(gelu_tanh, 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))) \
  KILN_UNARY(relu, x > 0.0 ? x : 0.0)                                                       \
  KILN_BINARY(add, a + b)                                                                   \
  KILN_BINARY(mul, a * b)                                                                   \
  KILN_SCALED(scale, x * s)

#endif /* KILN_KERNELS_ELEMENTWISE_OPS_H_ */
