// Matrix-vector schedule for few rows (decode): a workgroup computes
// KILN_VULKAN_GEMV_COLUMNS output columns (for KIND_QKV_ROPE the two columns
// of one rope pair, matmul.glsl's pair_column), each one dot product over K
// split across all of its invocations, so each read of x serves every
// column and the grid, ceil(columns (pairs) / columns per workgroup), has
// thousands of workgroups: a decode step chains its products with barriers,
// so each one must fill the device on its own (a workgroup per 16 columns
// left an 8192-column product on one wave of 128 workgroups). The partial
// sums are reduced by subgroupAdd and a shared slot per subgroup (SUBGROUP
// 1), or by a shared-memory tree (SUBGROUP 0). Rows are looped, so it is
// correct for any M but meant for M = 1.
//
// NORM: every workgroup reads the whole row of x anyway, so it sums x^2
// beside its dot products and so has the row's norm when they finish; the
// gain multiplies x as it is loaded.
#extension GL_EXT_control_flow_attributes : require
#include "matmul.glsl"
#include "kernels/vulkan/shapes.h"
const uint kLanes = uint(wg_size);
const uint kPer = uint(KILN_VULKAN_GEMV_COLUMNS);  // columns per workgroup
// The sums a workgroup reduces per row: kPer x 2 products, then x^2 (NORM).
const uint kSums = kPer * 2u + 1u;
#if SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
shared float subgroup_partials[kSums * uint(wg_size)];  // [sum][subgroup]; wg_size bounds the subgroups
#else
#include "reduce.glsl"
#endif

layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer Vec16Buf { uvec4 v[]; };

// 16-byte chunks in flight per invocation and weight row, so that each
// invocation has about 8 weight loads in flight whatever the columns.
const uint kUnroll = max(1u, 8u / (kPer * uint(kWeights)));
const int kWeightOperands = kQkv ? 3 : (MATMUL_KIND == KIND_GATE_UP ? 2 : 1);
#if MATMUL_KIND == KIND_QKV_ROPE && KILN_VULKAN_GEMV_COLUMNS % 2 != 0
#error "the rope epilogue takes whole pairs of columns"
#endif
// A function, not a constant: glslang 12 emits a spec-constant && before its
// operands. The driver folds it all the same.
bool vector_shape() {
  return transpose_b && kK % 8u == 0u && (MATMUL_KIND != KIND_PLAIN || NORM != 0 || in1_rank == 2);
}

int weight_dtype(int w) { return in_dtype(kFirstWeight + w); }

bool aligned16(int operand) { return (pc.operand[operand].x & 15u) == 0u; }

bool vector_path() {
  if (!vector_shape() || !aligned16(IN(0))) return false;
  if (NORM != 0 && !aligned16(IN(1))) return false;
  for (int w = 0; w < kWeightOperands; ++w) {
    if (!aligned16(IN(kFirstWeight + w))) return false;
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

// Whether sum i of the kSums is live in this kernel.
bool sum_used(uint i) { return i == kSums - 1u ? NORM != 0 : (i % 2u == 0u || kWeights > 1); }

// The workgroup's totals of every live sum, in place; every invocation
// calls it (it has barriers). With subgroups: subgroupAdd, then one shared
// slot per (sum, subgroup), so a row costs two barriers whatever the sums.
void reduce_sums(inout float sums[kSums]) {
#if SUBGROUP
  [[unroll]] for (uint i = 0u; i < kSums; ++i) {
    if (sum_used(i)) sums[i] = subgroupAdd(sums[i]);
  }
  barrier();  // the previous row's reads of the partials are done
  if (subgroupElect()) {
    [[unroll]] for (uint i = 0u; i < kSums; ++i) {
      if (sum_used(i)) subgroup_partials[i * uint(wg_size) + gl_SubgroupID] = sums[i];
    }
  }
  barrier();
  [[unroll]] for (uint i = 0u; i < kSums; ++i) {
    if (!sum_used(i)) continue;
    float total = 0.0;
    for (uint g = 0u; g < gl_NumSubgroups; ++g) total += subgroup_partials[i * uint(wg_size) + g];
    sums[i] = total;
  }
#else
  [[unroll]] for (uint i = 0u; i < kSums; ++i) {
    if (sum_used(i)) sums[i] = workgroup_sum(sums[i]);
  }
#endif
}

// Per column j of this workgroup: whether it exists, its output segment, and
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
  c.n = c.live ? col - segment_start(c.seg) : 0u;  // a dead column reads row 0, its sums unused
  c.cols = segment_cols(c.seg);
  for (int p = 0; p < 2; ++p) {
    int w = weight_of(min(p, kWeights - 1), c.seg);
    c.operand[p] = IN(kFirstWeight + w);
    c.dtype[p] = weight_dtype(w);
  }
  return c;
}

// x's elements i .. i + 7 of row `row`, times the gain under NORM (whose
// squares, of x itself, are added to `squares`).
void load_x8(uint row, uint i, out vec4 lo, out vec4 hi, inout float squares) {
  load8(IN(0), in0_dtype, row * kK + i, lo, hi);
  if (NORM != 0) {
    squares += dot(lo, lo) + dot(hi, hi);
    vec4 glo, ghi;
    load8(IN(1), in1_dtype, i, glo, ghi);
    lo *= glo;
    hi *= ghi;
  }
}

// Every weight load of a chunk is issued before the first is used, with no
// branch between them (a dead column reads row 0): a load behind a branch
// or a use waits for the one before it, and a decode product is nothing but
// these loads.
void dot_vector(uint row, uint lane, Column c[kPer], inout float acc[kPer][2], inout float squares) {
  uint chunks = kK / 8u;
  uint step = kLanes * kUnroll;
  uint full = chunks / step * step;
  for (uint c0 = lane; c0 < full; c0 += step) {
    vec4 xlo[kUnroll], xhi[kUnroll], wlo[kUnroll][kPer][2], whi[kUnroll][kPer][2];
    [[unroll]] for (uint u = 0u; u < kUnroll; ++u) {
      uint k = (c0 + u * kLanes) * 8u;
      load_x8(row, k, xlo[u], xhi[u], squares);
      [[unroll]] for (uint j = 0u; j < kPer; ++j) {
        [[unroll]] for (int p = 0; p < kWeights; ++p) {
          load8(c[j].operand[p], c[j].dtype[p], c[j].n * kK + k, wlo[u][j][p], whi[u][j][p]);
        }
      }
    }
    [[unroll]] for (uint u = 0u; u < kUnroll; ++u) {
      [[unroll]] for (uint j = 0u; j < kPer; ++j) {
        [[unroll]] for (int p = 0; p < kWeights; ++p) {
          acc[j][p] += dot(xlo[u], wlo[u][j][p]) + dot(xhi[u], whi[u][j][p]);
        }
      }
    }
  }
  for (uint ci = full + lane; ci < chunks; ci += kLanes) {
    vec4 xlo, xhi, wlo[kPer][2], whi[kPer][2];
    load_x8(row, ci * 8u, xlo, xhi, squares);
    [[unroll]] for (uint j = 0u; j < kPer; ++j) {
      [[unroll]] for (int p = 0; p < kWeights; ++p) load8(c[j].operand[p], c[j].dtype[p], c[j].n * kK + ci * 8u, wlo[j][p], whi[j][p]);
    }
    [[unroll]] for (uint j = 0u; j < kPer; ++j) {
      [[unroll]] for (int p = 0; p < kWeights; ++p) acc[j][p] += dot(xlo, wlo[j][p]) + dot(xhi, whi[j][p]);
    }
  }
}

void dot_scalar(uint row, uint lane, Column c[kPer], inout float acc[kPer][2], inout float squares) {
  for (uint k = lane; k < kK; k += kLanes) {
    float x = load_x(row, k);
    if (NORM != 0) {
      squares += x * x;
      x *= load_gain(k);
    }
    [[unroll]] for (uint j = 0u; j < kPer; ++j) {
      [[unroll]] for (int p = 0; p < kWeights; ++p) {
        if (c[j].live) acc[j][p] += x * load_w(weight_of(p, c[j].seg), row, k, c[j].n, c[j].cols);
      }
    }
  }
}

// The output column of slot j of the workgroup whose first slot
// is `first`: adjacent columns, or the two of a rope pair.
uint slot_column(uint first, uint j) {
  if (MATMUL_KIND == KIND_QKV_ROPE) return pair_column(first / 2u + j / 2u, j % 2u);
  return first + j;
}

void main() {
  uint lane = gl_LocalInvocationID.x;
  uint first = group_index() * kPer;
  // Uniform per workgroup.
  if (MATMUL_KIND == KIND_QKV_ROPE ? first / 2u >= pair_count() : first >= kColumns) return;
  Column c[kPer];
  [[unroll]] for (uint j = 0u; j < kPer; ++j) c[j] = column_at(slot_column(first, j));
  bool vector = vector_path();
  uint rows = EXT(in0_rows);
  for (uint row = 0u; row < rows; ++row) {
    float acc[kPer][2];
    [[unroll]] for (uint j = 0u; j < kPer; ++j) acc[j] = float[2](0.0, 0.0);
    float squares = 0.0;
    if (vector) {
      dot_vector(row, lane, c, acc, squares);
    } else {
      dot_scalar(row, lane, c, acc, squares);
    }
    float sums[kSums];
    [[unroll]] for (uint j = 0u; j < kPer; ++j) {
      sums[2u * j] = acc[j][0];
      sums[2u * j + 1u] = acc[j][1];
    }
    sums[kSums - 1u] = squares;
    reduce_sums(sums);
    float scale = NORM != 0 ? norm_scale(sums[kSums - 1u]) : 1.0;
    float products[kPer][2];
    [[unroll]] for (uint j = 0u; j < kPer; ++j) {
      products[j][0] = sums[2u * j] * scale;
      products[j][1] = kWeights > 1 ? sums[2u * j + 1u] * scale : 0.0;
    }
    if (lane != 0u) continue;
    if (MATMUL_KIND == KIND_QKV_ROPE) {
      [[unroll]] for (uint j = 0u; j < kPer; j += 2u) {
        if (first / 2u + j / 2u < pair_count()) finish_pair(row, first / 2u + j / 2u, products[j][0], products[j + 1u][0]);
      }
      continue;
    }
    [[unroll]] for (uint j = 0u; j < kPer; ++j) {
      if (c[j].live) finish(row, first + j, products[j][0], products[j][1]);
    }
  }
}
