#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
#include "copy_bits.glsl"
#include "kernels/vulkan/shapes.h"
// cast(x): y = x in out0_dtype; with equal dtypes, the copy kernel.
// A workgroup covers wg_size x KILN_VULKAN_CAST_ELEMENTS consecutive
// elements (shapes.h; the grid reads it too), each invocation
// KILN_VULKAN_CAST_ELEMENTS of them, adjacent invocations at adjacent
// addresses. Two paths, chosen once per dispatch:
//   vector: both operands 16-byte aligned and a copy (the bits move
//     unchanged, one uvec4 per load and store, 4 of them per invocation
//     for a 4-byte dtype, 2 for a 2-byte one) or f16 <-> f32 (packets of
//     8 elements: one uvec4 of f16 and two of f32). An invocation issues
//     all its loads before its first store. Elements past the last whole
//     uvec4 (packet) take the scalar path;
//   scalar: any other pair of dtypes or an unaligned operand, one element
//     per load, converted through f32 by load and store (a copy moves the
//     bits, so an i32 past 2^24 stays exact).
DTYPE(in0_dtype, 10)
DTYPE(out0_dtype, 11)
EXTENT(out0_rows, 12)
layout(constant_id = 14) const int out0_cols = 1;

layout(buffer_reference, std430, buffer_reference_align = 16) buffer Vec16Buf { uvec4 v[]; };

const uint kElements = uint(KILN_VULKAN_CAST_ELEMENTS);
const uint kMaxVectors = kElements / 4u;  // uvec4s per invocation at most (4-byte elements)

bool aligned16(int operand) { return (pc.operand[operand].x & 15u) == 0u; }

bool two_bytes(int dtype) { return dtype == DT_F16 || dtype == DT_BF16; }

bool vector_path() {
  bool copy = in0_dtype == out0_dtype;
  bool half_float = (in0_dtype == DT_F16 && out0_dtype == DT_F32) || (in0_dtype == DT_F32 && out0_dtype == DT_F16);
  return (copy || half_float) && aligned16(IN(0)) && aligned16(OUT(0));
}

void cast_element(uint i) {
  if (in0_dtype == out0_dtype) {
    copy_element(in0_dtype, IN(0), i, OUT(0), i);
  } else {
    store(OUT(0), out0_dtype, i, load(IN(0), in0_dtype, i));
  }
}

// Elements [first, n), the tail past the last whole unit.
void cast_tail(uint first, uint n) {
  for (uint i = first; i < n; ++i) cast_element(i);
}

// A copy: uvec4 q of the block's range is moved by invocation q % wg_size.
void copy_vectors(uint n, uint block, uint lane) {
  Vec16Buf x = Vec16Buf(pc.operand[IN(0)]);
  Vec16Buf y = Vec16Buf(pc.operand[OUT(0)]);
  uint per_vector = two_bytes(in0_dtype) ? 8u : 4u;  // elements per uvec4
  uint vectors = kElements / per_vector;             // per invocation
  uint whole = n / per_vector;
  uint first = block / per_vector;
  uvec4 v[kMaxVectors];
  [[unroll]] for (uint k = 0u; k < kMaxVectors; ++k) {
    uint q = first + k * uint(wg_size) + lane;
    if (k < vectors && q < whole) v[k] = x.v[q];
  }
  [[unroll]] for (uint k = 0u; k < kMaxVectors; ++k) {
    uint q = first + k * uint(wg_size) + lane;
    if (k < vectors && q < whole) {
      y.v[q] = v[k];
    } else if (k < vectors && q == whole) {
      cast_tail(q * per_vector, n);
    }
  }
}

// f16 <-> f32: packet p (elements 8p .. 8p + 7) of the block's range is
// converted by invocation p % wg_size.
void convert_packets(uint n, uint block, uint lane) {
  Vec16Buf x = Vec16Buf(pc.operand[IN(0)]);
  Vec16Buf y = Vec16Buf(pc.operand[OUT(0)]);
  const uint kPackets = kElements / 8u;
  uint whole = n / 8u;
  uint first = block / 8u;
  uvec4 a[kPackets], b[kPackets];
  [[unroll]] for (uint k = 0u; k < kPackets; ++k) {
    uint p = first + k * uint(wg_size) + lane;
    if (p < whole) {
      if (in0_dtype == DT_F16) {
        a[k] = x.v[p];
      } else {
        a[k] = x.v[2u * p];
        b[k] = x.v[2u * p + 1u];
      }
    }
  }
  [[unroll]] for (uint k = 0u; k < kPackets; ++k) {
    uint p = first + k * uint(wg_size) + lane;
    if (p < whole) {
      if (in0_dtype == DT_F16) {
        y.v[2u * p] = floatBitsToUint(vec4(unpackHalf2x16(a[k].x), unpackHalf2x16(a[k].y)));
        y.v[2u * p + 1u] = floatBitsToUint(vec4(unpackHalf2x16(a[k].z), unpackHalf2x16(a[k].w)));
      } else {
        vec4 lo = uintBitsToFloat(a[k]), hi = uintBitsToFloat(b[k]);
        y.v[p] = uvec4(packHalf2x16(lo.xy), packHalf2x16(lo.zw), packHalf2x16(hi.xy), packHalf2x16(hi.zw));
      }
    } else if (p == whole) {
      cast_tail(8u * p, n);
    }
  }
}

void main() {
  uint n = EXT(out0_rows) * uint(out0_cols);
  uint block = group_index() * uint(wg_size) * kElements;
  uint lane = gl_LocalInvocationID.x;
  if (!vector_path()) {
    [[unroll]] for (uint k = 0u; k < kElements; ++k) {
      uint i = block + k * uint(wg_size) + lane;
      if (i < n) cast_element(i);
    }
  } else if (in0_dtype == out0_dtype) {
    copy_vectors(n, block, lane);
  } else {
    convert_packets(n, block, lane);
  }
}
