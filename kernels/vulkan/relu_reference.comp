#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "elementwise.glsl"
// relu(x) = max(x, 0)
#define UNARY(x) op_relu(x)
#include "unary.glsl"
