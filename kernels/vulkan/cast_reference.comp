#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "elementwise.glsl"
// cast(x): the dtype conversion is in load and store
#define UNARY(x) (x)
#include "unary.glsl"
