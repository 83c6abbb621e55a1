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
// fragments of 16 x 16. Each 64-wide step of K stages a's 128 x 64 tile and
// the weights' 128 (columns) x 64 tile in shared memory as packed f16, eight
// to a uvec4 (a 16-byte load straight from f16 weights where transpose_b,
// K % 8 == 0 and the operands are aligned; else converted element by
// element), and multiplies them while the next step's loads are in flight:
// each invocation holds the next step's elements in registers across the
// products, so global latency overlaps the tensor cores' work instead of
// stalling every step. Rows are padded by 16 bytes, which keeps the
// fragment loads free of bank conflicts. The epilogue stores each fragment
// to shared memory and finish() writes it (bias, dtype). Tiles past M, N or
// K are zero-filled, so any shape works; a batched b (rank > 2) is computed
// element by element.
#define MATMUL_KIND KIND_PLAIN
#include "matmul.glsl"

layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer Vec16Buf { uvec4 v[]; };

const uint kTile = 128u, kStep = 64u;
const uint kRowVecs = kStep / 8u + 1u;  // a tile row: kStep halves, eight to a uvec4, and 16 bytes of padding
shared uvec4 a_tile[kTile * kRowVecs];
shared uvec4 w_tile[kTile * kRowVecs];  // [column][k]
shared float c_frag[8u * 256u];         // one 16 x 16 fragment per subgroup

bool aligned16(int operand) { return (pc.operand[operand].x & 15u) == 0u; }
// A function, not a constant: the driver folds it all the same.
bool vector_loads() { return transpose_b && kK % 8u == 0u && aligned16(IN(0)) && aligned16(IN(1)); }

uvec4 pack8(vec4 lo, vec4 hi) {
  return uvec4(packFloat2x16(f16vec2(lo.xy)), packFloat2x16(f16vec2(lo.zw)), packFloat2x16(f16vec2(hi.xy)),
               packFloat2x16(f16vec2(hi.zw)));
}

// Elements k .. k + 7 of row r of a (weights: of column r of b) as packed
// f16; zero past |limit| rows and past K.
uvec4 load8(bool weights, bool vector, uint r, uint limit, uint k) {
  if (r >= limit || k >= kK) return uvec4(0u);
  int dtype = weights ? in1_dtype : in0_dtype;
  if (vector && dtype != DT_BF16) {
    Vec16Buf b = Vec16Buf(pc.operand[weights ? IN(1) : IN(0)]);
    uint i = r * kK + k;
    if (dtype == DT_F16) return b.v[i / 8u];
    return pack8(uintBitsToFloat(b.v[i / 4u]), uintBitsToFloat(b.v[i / 4u + 1u]));
  }
  vec4 lo = vec4(0.0), hi = vec4(0.0);
  for (uint e = 0u; e < 8u && k + e < kK; ++e) {
    float v = weights ? load_w(0, 0u, k + e, r, kColumns) : load_x(r, k + e);
    if (e < 4u) lo[e] = v; else hi[e - 4u] = v;
  }
  return pack8(lo, hi);
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

// Each invocation's share of a tile: 128 rows x kStep / 8 runs of 8 elements.
const uint kRunsPerRow = kStep / 8u;
const uint kRuns = kTile * kRunsPerRow / 256u;  // per invocation, for the 256 the variant runs with

void fetch(bool vector, uint row0, uint col0, uint rows, uint k0, out uvec4 next_a[kRuns], out uvec4 next_w[kRuns]) {
  [[unroll]] for (uint h = 0u; h < kRuns; ++h) {
    uint run = gl_LocalInvocationID.x + h * 256u;
    uint r = run / kRunsPerRow, k = k0 + (run % kRunsPerRow) * 8u;
    next_a[h] = load8(false, vector, row0 + r, rows, k);
    next_w[h] = load8(true, vector, col0 + r, kColumns, k);
  }
}

// The accumulators are eight named fragments, not an array: an array of
// cooperative matrices indexed in a loop may be kept in local memory, which
// costs more than the products themselves.
#define MMA_ROW(i, a) \
  c##i##0 = coopMatMulAddNV(a, b0, c##i##0); \
  c##i##1 = coopMatMulAddNV(a, b1, c##i##1)

void store_fragment(FRAG32 c, uint i, uint j, uint row0, uint col0, uint rows) {
  uint sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
  coopMatStoreNV(c, c_frag, sg * 256u, 16u, false);
  subgroupMemoryBarrierShared();
  subgroupBarrier();
  for (uint e = lane; e < 256u; e += gl_SubgroupSize) {
    uint row = row0 + sg / 4u * 64u + i * 16u + e / 16u, col = col0 + sg % 4u * 32u + j * 16u + e % 16u;
    if (row < rows && col < kColumns) finish(row, col, c_frag[sg * 256u + e], 0.0);
  }
  subgroupBarrier();
}

void main() {
  uint rows = EXT(out0_rows);
  // Row tiles vary fastest: the workgroups that read one column tile of the
  // weights run together, so each weight byte leaves memory once (the
  // activations' rows are far fewer and stay in L2).
  uint tiles_m = (rows + kTile - 1u) / kTile;
  uint row0 = group_index() % tiles_m * kTile, col0 = group_index() / tiles_m * kTile;
  if (row0 >= rows) return;  // uniform per workgroup
  if (in1_rank > 2) {
    batched(row0, col0, rows);
    return;
  }
  uint sg = gl_SubgroupID;
  uint a_base = sg / 4u * 64u * kRowVecs, b_base = sg % 4u * 32u * kRowVecs;
  bool vector = vector_loads();
  FRAG32 c00 = FRAG32(0.0), c01 = FRAG32(0.0), c10 = FRAG32(0.0), c11 = FRAG32(0.0);
  FRAG32 c20 = FRAG32(0.0), c21 = FRAG32(0.0), c30 = FRAG32(0.0), c31 = FRAG32(0.0);
  uvec4 next_a[kRuns], next_w[kRuns];
  fetch(vector, row0, col0, rows, 0u, next_a, next_w);
  for (uint k0 = 0u; k0 < kK; k0 += kStep) {
    [[unroll]] for (uint h = 0u; h < kRuns; ++h) {
      uint run = gl_LocalInvocationID.x + h * 256u;
      uint slot = run / kRunsPerRow * kRowVecs + run % kRunsPerRow;
      a_tile[slot] = next_a[h];
      w_tile[slot] = next_w[h];
    }
    barrier();
    if (k0 + kStep < kK) fetch(vector, row0, col0, rows, k0 + kStep, next_a, next_w);
    [[unroll]] for (uint kv = 0u; kv < kRunsPerRow; kv += 2u) {  // 16 of K: two uvec4 of a row
      FRAG16 a0, a1, a2, a3, b0, b1;
      // [column][k]: the weights' tile is K x N column-major.
      coopMatLoadNV(b0, w_tile, b_base + kv, kRowVecs, true);
      coopMatLoadNV(b1, w_tile, b_base + 16u * kRowVecs + kv, kRowVecs, true);
      coopMatLoadNV(a0, a_tile, a_base + kv, kRowVecs, false);
      coopMatLoadNV(a1, a_tile, a_base + 16u * kRowVecs + kv, kRowVecs, false);
      coopMatLoadNV(a2, a_tile, a_base + 32u * kRowVecs + kv, kRowVecs, false);
      coopMatLoadNV(a3, a_tile, a_base + 48u * kRowVecs + kv, kRowVecs, false);
      MMA_ROW(0, a0);
      MMA_ROW(1, a1);
      MMA_ROW(2, a2);
      MMA_ROW(3, a3);
    }
    barrier();
  }
  store_fragment(c00, 0u, 0u, row0, col0, rows);
  store_fragment(c01, 0u, 1u, row0, col0, rows);
  store_fragment(c10, 1u, 0u, row0, col0, rows);
  store_fragment(c11, 1u, 1u, row0, col0, rows);
  store_fragment(c20, 2u, 0u, row0, col0, rows);
  store_fragment(c21, 2u, 1u, row0, col0, rows);
  store_fragment(c30, 3u, 0u, row0, col0, rows);
  store_fragment(c31, 3u, 1u, row0, col0, rows);
}
