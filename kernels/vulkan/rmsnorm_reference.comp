#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#define LAYERNORM 0
#define RESIDUAL 0
#include "norm.glsl"
