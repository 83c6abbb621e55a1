#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#define LAYERNORM 1
#define RESIDUAL 1
#include "norm.glsl"
