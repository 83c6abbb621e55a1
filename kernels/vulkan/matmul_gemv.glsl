// Matrix-vector schedule for few rows (decode): each output column is one
// dot product over K, split across the lanes of a subgroup (SUBGROUP 1,
// subgroupAdd) or of the whole workgroup (SUBGROUP 0, a shared-memory
// reduction). A subgroup (a workgroup) computes KILN_VULKAN_GEMV_COLUMNS
// adjacent columns, so each read of x serves them all. Rows are looped, so
// it is correct for any M but meant for M = 1. The grid:
// ceil(columns / columns per workgroup) workgroups.
//
// Two paths, chosen per dispatch (uniform, so no lane diverges):
//   16-byte: transpose_b weights ([N, K], a column's weights contiguous),
//     K % 8 == 0 and every operand it reads 16-byte aligned: each lane reads
//     8 elements of x and of each weight row per load (one uvec4 of f16 or
//     bf16, two of f32), kUnroll loads in flight before the first use;
//   scalar: any layout, K, alignment or batched b, one element per load.
#extension GL_EXT_control_flow_attributes : require
#include "matmul.glsl"
#include "kernels/vulkan/shapes.h"
#if SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
layout(constant_id = 3) const int subgroup_size = 32;  // the device's; the plugin sets it
const uint kLanes = uint(subgroup_size);
#else
#include "reduce.glsl"
const uint kLanes = uint(wg_size);
#endif

layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer Vec16Buf { uvec4 v[]; };

const uint kPer = uint(KILN_VULKAN_GEMV_COLUMNS);  // columns per subgroup (workgroup)
const uint kUnroll = 4u;                            // 16-byte chunks in flight per lane
const int kWeightOperands = MATMUL_KIND == KIND_QKV ? 3 : (MATMUL_KIND == KIND_GATE_UP ? 2 : 1);
// A function, not a constant: glslang 12 emits a spec-constant && before its
// operands. The driver folds it all the same.
bool vector_shape() { return transpose_b && kK % 8u == 0u && (MATMUL_KIND != KIND_PLAIN || in1_rank == 2); }

int weight_dtype(int w) { return w == 0 ? in1_dtype : (w == 1 ? in2_dtype : in3_dtype); }

bool aligned16(int operand) { return (pc.operand[operand].x & 15u) == 0u; }

bool vector_path() {
  if (!vector_shape() || !aligned16(IN(0))) return false;
  for (int w = 0; w < kWeightOperands; ++w) {
    if (!aligned16(IN(1 + w))) return false;
  }
  return true;
}

// Elements i .. i + 7 of |operand| (i % 8 == 0, the operand 16-byte aligned).
void load8(int operand, int dtype, uint i, out vec4 lo, out vec4 hi) {
  Vec16Buf b = Vec16Buf(pc.operand[operand]);
  if (dtype == DT_F32) {
    lo = uintBitsToFloat(b.v[i / 4u]);
    hi = uintBitsToFloat(b.v[i / 4u + 1u]);
    return;
  }
  uvec4 u = b.v[i / 8u];
  if (dtype == DT_F16) {
    lo = vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
    hi = vec4(unpackHalf2x16(u.z), unpackHalf2x16(u.w));
  } else {  // bf16: the high half of an f32
    lo = uintBitsToFloat(uvec4(u.x << 16, u.x & 0xffff0000u, u.y << 16, u.y & 0xffff0000u));
    hi = uintBitsToFloat(uvec4(u.z << 16, u.z & 0xffff0000u, u.w << 16, u.w & 0xffff0000u));
  }
}

float column_sum(float x) {
#if SUBGROUP
  return subgroupAdd(x);
#else
  return workgroup_sum(x);
#endif
}

// Per column j of this subgroup: whether it exists, its output segment, and
// its weight operand and first element for each product p.
struct Column {
  bool live;
  int seg;
  uint n;
  uint cols;
  int operand[2];
  int dtype[2];
};

Column column_at(uint col) {
  Column c;
  c.live = col < kColumns;
  c.seg = c.live ? segment(col) : 0;
  c.n = col - segment_start(c.seg);
  c.cols = segment_cols(c.seg);
  for (int p = 0; p < 2; ++p) {
    int w = weight_of(min(p, kWeights - 1), c.seg);
    c.operand[p] = IN(1 + w);
    c.dtype[p] = weight_dtype(w);
  }
  return c;
}

void dot_vector(uint row, uint lane, Column c[kPer], inout float acc[kPer][2]) {
  uint chunks = kK / 8u;
  uint step = kLanes * kUnroll;
  uint full = chunks / step * step;
  uint xbase = row * kK;
  for (uint c0 = lane; c0 < full; c0 += step) {
    vec4 xlo[kUnroll], xhi[kUnroll], wlo[kUnroll][kPer][2], whi[kUnroll][kPer][2];
    [[unroll]] for (uint u = 0u; u < kUnroll; ++u) {
      uint k = (c0 + u * kLanes) * 8u;
      load8(IN(0), in0_dtype, xbase + k, xlo[u], xhi[u]);
      [[unroll]] for (uint j = 0u; j < kPer; ++j) {
        [[unroll]] for (int p = 0; p < kWeights; ++p) {
          if (c[j].live) load8(c[j].operand[p], c[j].dtype[p], c[j].n * kK + k, wlo[u][j][p], whi[u][j][p]);
        }
      }
    }
    [[unroll]] for (uint u = 0u; u < kUnroll; ++u) {
      [[unroll]] for (uint j = 0u; j < kPer; ++j) {
        [[unroll]] for (int p = 0; p < kWeights; ++p) {
          if (c[j].live) acc[j][p] += dot(xlo[u], wlo[u][j][p]) + dot(xhi[u], whi[u][j][p]);
        }
      }
    }
  }
  for (uint ci = full + lane; ci < chunks; ci += kLanes) {
    vec4 xlo, xhi, wlo, whi;
    load8(IN(0), in0_dtype, xbase + ci * 8u, xlo, xhi);
    [[unroll]] for (uint j = 0u; j < kPer; ++j) {
      [[unroll]] for (int p = 0; p < kWeights; ++p) {
        if (!c[j].live) continue;
        load8(c[j].operand[p], c[j].dtype[p], c[j].n * kK + ci * 8u, wlo, whi);
        acc[j][p] += dot(xlo, wlo) + dot(xhi, whi);
      }
    }
  }
}

void dot_scalar(uint row, uint lane, Column c[kPer], inout float acc[kPer][2]) {
  for (uint k = lane; k < kK; k += kLanes) {
    float x = load_x(row, k);
    [[unroll]] for (uint j = 0u; j < kPer; ++j) {
      [[unroll]] for (int p = 0; p < kWeights; ++p) {
        if (c[j].live) acc[j][p] += x * load_w(weight_of(p, c[j].seg), row, k, c[j].n, c[j].cols);
      }
    }
  }
}

void main() {
#if SUBGROUP
  uint lane = gl_SubgroupInvocationID;
  uint first = (group_index() * (uint(wg_size) / kLanes) + gl_SubgroupID) * kPer;
#else
  uint lane = gl_LocalInvocationID.x;
  uint first = group_index() * kPer;
#endif
  if (first >= kColumns) return;  // uniform per subgroup, or per workgroup without subgroups
  Column c[kPer];
  [[unroll]] for (uint j = 0u; j < kPer; ++j) c[j] = column_at(first + j);
  bool vector = vector_path();
  uint rows = EXT(out0_rows);
  for (uint row = 0u; row < rows; ++row) {
    float acc[kPer][2];
    [[unroll]] for (uint j = 0u; j < kPer; ++j) acc[j] = float[2](0.0, 0.0);
    if (vector) {
      dot_vector(row, lane, c, acc);
    } else {
      dot_scalar(row, lane, c, acc);
    }
    [[unroll]] for (uint j = 0u; j < kPer; ++j) {
      float product0 = column_sum(acc[j][0]);
      float product1 = kWeights > 1 ? column_sum(acc[j][1]) : 0.0;
      if (lane == 0u && c[j].live) finish(row, first + j, product0, product1);
    }
  }
}
