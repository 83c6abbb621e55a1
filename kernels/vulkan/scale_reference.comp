#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "elementwise.glsl"
// scale(x) = x * scale
layout(constant_id = 20) const float scale = 1.0;
#define UNARY(x) op_scale(x, scale)
#include "unary.glsl"
