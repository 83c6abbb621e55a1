#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#define MATMUL_KIND KIND_PLAIN
#define NORM 1
#define SUBGROUP 0
#include "matmul_gemv.glsl"
