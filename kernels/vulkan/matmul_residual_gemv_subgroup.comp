#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#define MATMUL_KIND KIND_RESIDUAL
#define SUBGROUP 1
#include "matmul_gemv.glsl"
