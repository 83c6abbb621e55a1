#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "elementwise.glsl"
// mul(a, b) = a * b
#define BINARY(a, b) op_mul(a, b)
#include "binary.glsl"
