#version 460
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#define MATMUL_KIND KIND_QKV_ROPE
#define NORM 1
#define SUBGROUP 1
#include "matmul_gemv.glsl"
