#pragma once

#include <cmath>

#include "kernels/elementwise_ops.h"

// The elementwise rows of kernels/elementwise_ops.h, the one table every
// backend expands, as the cpu reference's functions: op_silu, op_gelu,
// op_gelu_tanh, op_relu, op_add, op_mul, op_scale, computed in f64.
namespace kiln::kernels::cpu::math {

using std::erf;
using std::exp;
using std::tanh;

#define KILN_CPU_UNARY(name, expr) \
  inline double op_##name(double x) { return expr; }
#define KILN_CPU_BINARY(name, expr) \
  inline double op_##name(double a, double b) { return expr; }
#define KILN_CPU_SCALED(name, expr) \
  inline double op_##name(double x, double s) { return expr; }
KILN_ELEMENTWISE_OPS(KILN_CPU_UNARY, KILN_CPU_BINARY, KILN_CPU_SCALED)
#undef KILN_CPU_UNARY
#undef KILN_CPU_BINARY
#undef KILN_CPU_SCALED

}  // namespace kiln::kernels::cpu::math
