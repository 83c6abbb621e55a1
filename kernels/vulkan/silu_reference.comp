#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "elementwise.glsl"
// silu(x) = x * sigmoid(x)
#define UNARY(x) op_silu(x)
#include "unary.glsl"
