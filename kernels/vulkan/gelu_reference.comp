#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "elementwise.glsl"
// gelu(x) = x * Phi(x), or its tanh approximation
layout(constant_id = 20) const int approximate = 0;
#define UNARY(x) (approximate == APPROXIMATE_TANH ? op_gelu_tanh(x) : op_gelu(x))
#include "unary.glsl"
