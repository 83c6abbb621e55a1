#version 460
#extension GL_GOOGLE_include_directive : require
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
// matmul through cooperative matrices (prefill), for devices with
// VK_NV_cooperative_matrix and 16 x 16 x 16 f16 x f16 -> f32 in subgroups
// of 32 (the plugin refuses the variant elsewhere). A workgroup of 8
// subgroups computes a 128 x 128 output tile: subgroup (sm, sn) of the 2 x 4
// grid owns rows sm * 64 .. + 64 and columns sn * 32 .. + 32, 4 x 2
// fragments of 16 x 16. Each 32-wide step of K stages a's 128 x 32 tile and
// the weights' 128 (columns) x 32 tile in shared memory as f16 (8 elements
// per invocation per load: 16-byte loads where transpose_b, K % 8 == 0 and
// the operands are aligned, else element by element), then multiplies. The
// epilogue stores each fragment to shared memory and finish() writes it
// (bias, dtype). Tiles past M, N or K are zero-filled, so any shape works;
// a batched b (rank > 2) is computed element by element.
#define MATMUL_KIND KIND_PLAIN
#include "matmul.glsl"

layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer Vec16Buf { uvec4 v[]; };

const uint kTile = 128u, kStep = 32u, kStride = kStep + 8u;  // shared rows padded by 16 bytes
shared float16_t a_tile[kTile * kStride];
shared float16_t w_tile[kTile * kStride];  // [column][k]
shared float c_frag[8u * 256u];            // one 16 x 16 fragment per subgroup

bool aligned16(int operand) { return (pc.operand[operand].x & 15u) == 0u; }
// A function, not a constant: the driver folds it all the same.
bool vector_loads() { return transpose_b && kK % 8u == 0u && aligned16(IN(0)) && aligned16(IN(1)); }

// Elements k .. k + 7 of row r of a (weights: of column r of b), as f32;
// zero past |limit| rows and past K.
void load8(bool weights, bool vector, uint r, uint limit, uint k, out vec4 lo, out vec4 hi) {
  lo = vec4(0.0);
  hi = vec4(0.0);
  if (r >= limit || k >= kK) return;
  int dtype = weights ? in1_dtype : in0_dtype;
  if (vector && dtype != DT_BF16) {
    Vec16Buf b = Vec16Buf(pc.operand[weights ? IN(1) : IN(0)]);
    uint i = r * kK + k;
    if (dtype == DT_F32) {
      lo = uintBitsToFloat(b.v[i / 4u]);
      hi = uintBitsToFloat(b.v[i / 4u + 1u]);
    } else {
      uvec4 u = b.v[i / 8u];
      lo = vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
      hi = vec4(unpackHalf2x16(u.z), unpackHalf2x16(u.w));
    }
    return;
  }
  for (uint e = 0u; e < 8u && k + e < kK; ++e) {
    float v = weights ? load_w(0, 0u, k + e, r, kColumns) : load_x(r, k + e);
    if (e < 4u) lo[e] = v; else hi[e - 4u] = v;
  }
}

void store8(bool weights, uint offset, vec4 lo, vec4 hi) {
  [[unroll]] for (uint e = 0u; e < 4u; ++e) {
    if (weights) {
      w_tile[offset + e] = float16_t(lo[e]);
      w_tile[offset + 4u + e] = float16_t(hi[e]);
    } else {
      a_tile[offset + e] = float16_t(lo[e]);
      a_tile[offset + 4u + e] = float16_t(hi[e]);
    }
  }
}

// A batched b: each invocation computes its tile's elements directly.
void batched(uint row0, uint col0, uint rows) {
  for (uint e = gl_LocalInvocationID.x; e < kTile * kTile; e += uint(wg_size)) {
    uint row = row0 + e / kTile, col = col0 + e % kTile;
    if (row >= rows || col >= kColumns) continue;
    float sum = 0.0;
    for (uint k = 0u; k < kK; ++k) sum += load_x(row, k) * load_w(0, row, k, col, kColumns);
    finish(row, col, sum, 0.0);
  }
}

#define FRAG16 fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define FRAG32 fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>

void main() {
  uint rows = EXT(out0_rows);
  uint tiles_n = (kColumns + kTile - 1u) / kTile;
  uint row0 = group_index() / tiles_n * kTile, col0 = group_index() % tiles_n * kTile;
  if (row0 >= rows) return;  // uniform per workgroup
  if (in1_rank > 2) {
    batched(row0, col0, rows);
    return;
  }
  uint sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  uint sm = sg / 4u, sn = sg % 4u;
  bool vector = vector_loads();
  FRAG32 acc[4][2];
  [[unroll]] for (uint i = 0u; i < 4u; ++i) {
    [[unroll]] for (uint j = 0u; j < 2u; ++j) acc[i][j] = FRAG32(0.0);
  }
  for (uint k0 = 0u; k0 < kK; k0 += kStep) {
    // 128 x 32 elements of each tile = 512 runs of 8: two per invocation.
    [[unroll]] for (uint h = 0u; h < 2u; ++h) {
      uint run = gl_LocalInvocationID.x + h * uint(wg_size);
      uint r = run / 4u, k = (run % 4u) * 8u;
      vec4 lo, hi;
      load8(false, vector, row0 + r, rows, k0 + k, lo, hi);
      store8(false, r * kStride + k, lo, hi);
      load8(true, vector, col0 + r, kColumns, k0 + k, lo, hi);
      store8(true, r * kStride + k, lo, hi);
    }
    barrier();
    [[unroll]] for (uint kk = 0u; kk < kStep; kk += 16u) {
      FRAG16 a[4], b[2];
      [[unroll]] for (uint i = 0u; i < 4u; ++i) {
        coopMatLoadNV(a[i], a_tile, (sm * 64u + i * 16u) * kStride + kk, kStride, false);
      }
      [[unroll]] for (uint j = 0u; j < 2u; ++j) {
        coopMatLoadNV(b[j], w_tile, (sn * 32u + j * 16u) * kStride + kk, kStride, true);  // [column][k]: K x N column-major
      }
      [[unroll]] for (uint i = 0u; i < 4u; ++i) {
        [[unroll]] for (uint j = 0u; j < 2u; ++j) acc[i][j] = coopMatMulAddNV(a[i], b[j], acc[i][j]);
      }
    }
    barrier();
  }
  [[unroll]] for (uint i = 0u; i < 4u; ++i) {
    [[unroll]] for (uint j = 0u; j < 2u; ++j) {
      coopMatStoreNV(acc[i][j], c_frag, sg * 256u, 16u, false);
      subgroupMemoryBarrierShared();
      subgroupBarrier();
      for (uint e = lane; e < 256u; e += gl_SubgroupSize) {
        uint row = row0 + sm * 64u + i * 16u + e / 16u, col = col0 + sn * 32u + j * 16u + e % 16u;
        if (row < rows && col < kColumns) finish(row, col, c_frag[sg * 256u + e], 0.0);
      }
      subgroupBarrier();
    }
  }
}
