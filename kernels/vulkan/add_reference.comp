#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "elementwise.glsl"
// add(a, b) = a + b
#define BINARY(a, b) op_add(a, b)
#include "binary.glsl"
