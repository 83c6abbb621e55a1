// Prepended to every kernel source, after the defines the host passes with
// -D and before kernels/elementwise_ops.h. Not a kernel: it gives every
// kernel the same argument list and the same way to read and write tensors.
//
// What the host defines for each dispatch (docs/opencl.md):
//   INPUTS, OUTPUTS        the tensor counts (at most 10 and 3);
//   IN<i>_DT, OUT<i>_DT    the dtype: f32 | f16 | bf16 | i32;
//   IN<i>_RANK, IN<i>_D<j> the rank and each extent (likewise OUT<i>_...);
//   IN<i>_COUNT, IN<i>_ROWS, IN<i>_COLS
//                          elements, leading dims flattened, last dim;
//                          an extent is a literal or a step argument (s0..s3);
//   <NAME>                 each Program constant, upper-cased (EPS, THETA,
//                          TRANSPOSE_B, APPROXIMATE, ...), and each step
//                          parameter (PAST expands to the step argument
//                          holding P);
//   WG                     the work-group size the kernel is launched with
//                          (a power of two).

#define KILN_CAT_(a, b) a##b
#define KILN_CAT(a, b) KILN_CAT_(a, b)

// ---- Tensors ------------------------------------------------------------------

// Storage types: f16 and bf16 are held as ushort, so layout kernels copy them
// as bits; f16 is read and written through the core vload_half/vstore_half
// (no cl_khr_fp16 needed) and computed in f32.
#define STORAGE_f32 float
#define STORAGE_f16 ushort
#define STORAGE_bf16 ushort
#define STORAGE_i32 int
#define STORAGE(dt) KILN_CAT(STORAGE_, dt)

ushort kiln_to_bf16(float v) {
  uint u = as_uint(v);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (ushort)((u >> 16) | 0x40u);  // NaN stays NaN
  u += 0x7fffu + ((u >> 16) & 1u);                                          // round to nearest even
  return (ushort)(u >> 16);
}

// Element i of p as float, whatever the dtype.
#define LOAD_f32(p, i) ((p)[i])
#define LOAD_f16(p, i) vload_half((i), (const __global half*)(p))
#define LOAD_bf16(p, i) as_float(((uint)(p)[i]) << 16)
#define LOAD_i32(p, i) ((float)(p)[i])
#define LOAD(dt, p, i) KILN_CAT(LOAD_, dt)(p, i)

// Elements [8i, 8i + 8) of p as float8, read with one 16- or 32-byte load:
// p + 8i must be aligned to 8 elements (the gemv fast path guarantees it:
// offsets are multiples of the Program's alignment and rows of K % 8 == 0
// elements). f16 is loaded as one uint4, because vload_half8 on global
// memory only promises 2-byte alignment and some compilers then split it
// into eight loads, and widened by the core vload_half8 from a private
// copy, which a GPU compiler turns into its conversion instructions
// (exact: subnormals, inf and NaN included). Widening the bits by hand cost
// NVIDIA's OpenCL about a hundred integer instructions per load (a 1B
// decode on the H100: 574 tok/s, against 622 this way).
float8 kiln_f16x8(const uint4 packed) {
  const uint4 copy = packed;
  return vload_half8(0, (const __private half*)&copy);
}
float8 kiln_bf16x8(const uint4 packed) {
  const uint8 h = (uint8)(packed.s0 & 0xffffu, packed.s0 >> 16, packed.s1 & 0xffffu, packed.s1 >> 16,
                          packed.s2 & 0xffffu, packed.s2 >> 16, packed.s3 & 0xffffu, packed.s3 >> 16);
  return as_float8(h << 16);
}
#define LOAD8A_f32(p, i) (((const __global float8*)(p))[i])
#define LOAD8A_f16(p, i) kiln_f16x8(((const __global uint4*)(p))[i])
#define LOAD8A_bf16(p, i) kiln_bf16x8(((const __global uint4*)(p))[i])
#define LOAD8A_i32(p, i) convert_float8(((const __global int8*)(p))[i])
#define LOAD8A(dt, p, i) KILN_CAT(LOAD8A_, dt)(p, i)

// Stores float v as element i of p, rounding to nearest even; to i32 it
// rounds toward zero, as NumPy's astype does.
#define STORE_f32(p, i, v) ((p)[i] = (v))
#define STORE_f16(p, i, v) vstore_half_rte((v), (i), (__global half*)(p))
#define STORE_bf16(p, i, v) ((p)[i] = kiln_to_bf16(v))
#define STORE_i32(p, i, v) ((p)[i] = convert_int_rtz(v))
#define STORE(dt, p, i, v) KILN_CAT(STORE_, dt)(p, i, v)

// ---- The argument list ----------------------------------------------------------

// Every kernel takes, in order: each input as (buffer, byte offset), each
// output likewise, then four step arguments s0..s3 (the step slots its
// extents and step parameters read; unused ones are 0). The host sets them
// without knowing the op.
#define KILN_TENSOR_ARG(name) __global uchar* name##_buffer, const ulong name##_offset,
#if INPUTS > 0
#define KILN_IN0 KILN_TENSOR_ARG(in0)
#else
#define KILN_IN0
#endif
#if INPUTS > 1
#define KILN_IN1 KILN_TENSOR_ARG(in1)
#else
#define KILN_IN1
#endif
#if INPUTS > 2
#define KILN_IN2 KILN_TENSOR_ARG(in2)
#else
#define KILN_IN2
#endif
#if INPUTS > 3
#define KILN_IN3 KILN_TENSOR_ARG(in3)
#else
#define KILN_IN3
#endif
#if INPUTS > 4
#define KILN_IN4 KILN_TENSOR_ARG(in4)
#else
#define KILN_IN4
#endif
#if INPUTS > 5
#define KILN_IN5 KILN_TENSOR_ARG(in5)
#else
#define KILN_IN5
#endif
#if INPUTS > 6
#define KILN_IN6 KILN_TENSOR_ARG(in6)
#else
#define KILN_IN6
#endif
#if INPUTS > 7
#define KILN_IN7 KILN_TENSOR_ARG(in7)
#else
#define KILN_IN7
#endif
#if INPUTS > 8
#define KILN_IN8 KILN_TENSOR_ARG(in8)
#else
#define KILN_IN8
#endif
#if INPUTS > 9
#define KILN_IN9 KILN_TENSOR_ARG(in9)
#else
#define KILN_IN9
#endif
#if OUTPUTS > 0
#define KILN_OUT0 KILN_TENSOR_ARG(out0)
#else
#define KILN_OUT0
#endif
#if OUTPUTS > 1
#define KILN_OUT1 KILN_TENSOR_ARG(out1)
#else
#define KILN_OUT1
#endif
#if OUTPUTS > 2
#define KILN_OUT2 KILN_TENSOR_ARG(out2)
#else
#define KILN_OUT2
#endif

// A kernel whose kernel-table row keeps scratch (OpenclKernel::scratch) is
// built with -D KILN_SCRATCH and takes one more (buffer, byte offset) pair
// after s3: the dispatch's own scratch, zero-filled once at compile and kept
// between steps. SCRATCH is its address.
#ifdef KILN_SCRATCH
#define KILN_SCRATCH_ARG , __global uchar* scratch_buffer, const ulong scratch_offset
#define SCRATCH (scratch_buffer + scratch_offset)
#else
#define KILN_SCRATCH_ARG
#endif

#define KILN_PARAMS                                                                                     \
  KILN_IN0 KILN_IN1 KILN_IN2 KILN_IN3 KILN_IN4 KILN_IN5 KILN_IN6 KILN_IN7 KILN_IN8 KILN_IN9             \
  KILN_OUT0 KILN_OUT1 KILN_OUT2                                                                         \
  const int s0, const int s1, const int s2, const int s3 KILN_SCRATCH_ARG

// Typed pointers to input i and output i.
#define IN(i) ((__global STORAGE(IN##i##_DT)*)(in##i##_buffer + in##i##_offset))
#define OUT(i) ((__global STORAGE(OUT##i##_DT)*)(out##i##_buffer + out##i##_offset))

// ---- Work-group reductions ------------------------------------------------------

// Every work-item of the group calls these with its value and gets the
// group's result; |scratch| holds WG floats of local memory. WG is a power
// of two.
float group_sum(float v, __local float* scratch) {
  const uint lid = get_local_id(0);
  scratch[lid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = WG / 2; s > 0; s >>= 1) {
    if (lid < s) scratch[lid] += scratch[lid + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  const float r = scratch[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  return r;
}

float group_max(float v, __local float* scratch) {
  const uint lid = get_local_id(0);
  scratch[lid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = WG / 2; s > 0; s >>= 1) {
    if (lid < s) scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  const float r = scratch[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  return r;
}

// ---- Elementwise math -------------------------------------------------------------

// kernels/elementwise_ops.h follows this prelude; its rows become op_<name>.
#define KILN_OCL_UNARY(name, expr) \
  float op_##name(float x) { return expr; }
#define KILN_OCL_BINARY(name, expr) \
  float op_##name(float a, float b) { return expr; }
#define KILN_OCL_SCALED(name, expr) \
  float op_##name(float x, float s) { return expr; }

// ---- Matrix products -------------------------------------------------------------

// The helpers of the matmul family (matmul, fused_gate_up, matmul_qkv): x is
// input 0 ([..., M, K], K = IN0_COLS); a weight is input W, [K, N], or
// [N, K] when TRANSPOSE_B (the layout of HF and GGUF checkpoints, the one
// decode reads fast). A kernel instantiates the helpers for the weights it
// reads: KILN_DEFINE_DOT(1).

float dot8(const float8 a, const float8 b) { return dot(a.lo, b.lo) + dot(a.hi, b.hi); }

// With TRANSPOSE_B and K a multiple of 8, a team's |lanes| lanes take the
// 8-element chunks of K in turn: lane l reads chunks l, l + lanes, ...,
// CHUNKS_PER_LANE(lanes) of them, the last one past K for some lanes unless
// LAST_CHUNK_LIVE(lanes). The loops count rounds, not chunks, so that with
// gemv's team a build constant (GEMV_LANES) the trip count is one too and
// the loop unrolls whole: the lane's loads become straight-line code that
// the assembler can put in flight together, where NVIDIA's OpenCL compiles
// a loop over j < K / 8 to one 16-byte load per iteration. On the H100 the
// whole unroll took the 14336x4096 product from 0.90 to 0.93 of the device
// copy (bench/README.md). kernel_table.cc's team rule bounds the rounds
// (kGemvMaxChunks), and so the unroll.
#define CHUNKS_PER_LANE(lanes) ((IN0_COLS / 8 + (lanes) - 1) / (lanes))
#define LAST_CHUNK_LIVE(lanes) (IN0_COLS / 8 % (lanes) == 0)

// gemv: lane |lane| of |lanes|' share of row x times output column n of
// weight W (N columns). With TRANSPOSE_B the lanes stride over the
// contiguous weight row, 8 elements at a time where K allows; otherwise a
// lane reads W[k, n] for every k and neighbouring work-items read
// neighbouring n.
#define KILN_DEFINE_DOT(W)                                                                                 \
  float dot_in##W(const __global STORAGE(IN0_DT)* x, const __global STORAGE(IN##W##_DT)* w, const size_t n, \
                  const size_t n_cols, const uint lane, const uint lanes) {                                    \
    float acc = 0.0f;                                                                                      \
    if (TRANSPOSE_B && IN0_COLS % 8 == 0) {                                                                \
      const __global STORAGE(IN##W##_DT)* row = w + n * IN0_COLS;                                         \
      _Pragma("unroll") for (uint i = 0; i < CHUNKS_PER_LANE(lanes); ++i) {                               \
        const uint j = lane + i * lanes;                                                                   \
        if (LAST_CHUNK_LIVE(lanes) || j < IN0_COLS / 8) acc += dot8(LOAD8A(IN0_DT, x, j), LOAD8A(IN##W##_DT, row, j)); \
      }                                                                                                    \
    } else if (TRANSPOSE_B) {                                                                              \
      const __global STORAGE(IN##W##_DT)* row = w + n * IN0_COLS;                                         \
      for (uint k = lane; k < IN0_COLS; k += lanes) acc += LOAD(IN0_DT, x, k) * LOAD(IN##W##_DT, row, k); \
    } else {                                                                                               \
      for (uint k = lane; k < IN0_COLS; k += lanes) acc += LOAD(IN0_DT, x, k) * LOAD(IN##W##_DT, w, k * n_cols + n); \
    }                                                                                                      \
    return acc;                                                                                            \
  }

// gemv with a norm prologue (rmsnorm_matmul, rmsnorm_gate_up,
// rmsnorm_qkv_rope): x is normalised by rmsnorm with gain g, input 1, so the
// weights start at input 2. Every team reads its whole row of x anyway, so
// a lane multiplies its share of x by g as it loads it and sums x^2 beside
// the products; the team's sum of squares gives norm_scale, which scales
// each product before the epilogue. One pass over x serves two products:
// column |na| of weight A and, when |both|, column |nb| of weight B (the
// gate and up of one output; the two columns of a rope pair, A == B), both
// weights of |n_cols| columns. Returns the lane's (product a, product b,
// sum of squares, 0), for GEMV_SUM4.
#define KILN_DEFINE_NORM_DOT(A, B)                                                                        \
  float4 norm_dot_in##A##_in##B(const __global STORAGE(IN0_DT)* x, const __global STORAGE(IN1_DT)* g,     \
                                const __global STORAGE(IN##A##_DT)* wa, const size_t na,                  \
                                const __global STORAGE(IN##B##_DT)* wb, const size_t nb, const bool both, \
                                const size_t n_cols, const uint lane, const uint lanes) {                 \
    float a = 0.0f, b = 0.0f, squares = 0.0f;                                                             \
    if (TRANSPOSE_B && IN0_COLS % 8 == 0) {                                                               \
      const __global STORAGE(IN##A##_DT)* row_a = wa + na * IN0_COLS;                                     \
      const __global STORAGE(IN##B##_DT)* row_b = wb + nb * IN0_COLS;                                     \
      _Pragma("unroll") for (uint i = 0; i < CHUNKS_PER_LANE(lanes); ++i) {                              \
        const uint j = lane + i * lanes;                                                                  \
        if (!LAST_CHUNK_LIVE(lanes) && j >= IN0_COLS / 8) break;                                          \
        const float8 v = LOAD8A(IN0_DT, x, j);                                                            \
        squares += dot8(v, v);                                                                            \
        const float8 vg = v * LOAD8A(IN1_DT, g, j);                                                       \
        a += dot8(vg, LOAD8A(IN##A##_DT, row_a, j));                                                      \
        if (both) b += dot8(vg, LOAD8A(IN##B##_DT, row_b, j));                                            \
      }                                                                                                   \
    } else {                                                                                              \
      for (uint k = lane; k < IN0_COLS; k += lanes) {                                                     \
        const float v = LOAD(IN0_DT, x, k);                                                               \
        squares += v * v;                                                                                 \
        const float vg = v * LOAD(IN1_DT, g, k);                                                          \
        a += vg * LOAD(IN##A##_DT, wa, TRANSPOSE_B ? na * IN0_COLS + k : k * n_cols + na);                \
        if (both) b += vg * LOAD(IN##B##_DT, wb, TRANSPOSE_B ? nb * IN0_COLS + k : k * n_cols + nb);      \
      }                                                                                                   \
    }                                                                                                     \
    return (float4)(a, b, squares, 0.0f);                                                                 \
  }

// 1 / rms of a row of IN0_COLS features from its sum of squares (the norm
// prologue's scale).
#ifdef EPS
float norm_scale(const float squares) { return rsqrt(squares / IN0_COLS + EPS); }
#endif

#ifdef TRANSPOSE_B
// gemv work split: a work-group computes GEMV_OUTPUTS consecutive outputs
// of one row (kernels/opencl/kernel_table.cc launches to match, the same
// count for both variants below). A team of work-items computes each
// output, its lanes summing their shares of the dot product:
//   gemv           (GEMV_SUBGROUP 0): team t is the LANES work-items
//                  [t * LANES, (t + 1) * LANES), summed in local memory;
//                  one output per team;
//   gemv_subgroup  (GEMV_SUBGROUP 1, set by {op}_gemv_subgroup.cl): a team
//                  is a subgroup, summed with sub_group_reduce_add; the
//                  subgroups take the group's outputs in turn, so any
//                  subgroup size works (a device may choose it per kernel).
// With TRANSPOSE_B, GEMV_LANES work-items share an output; without it a
// work-item computes one alone (neighbours read neighbouring columns), in
// both variants. The host sets GEMV_LANES for every gemv kernel
// (kernels/opencl/kernel_table.cc): in gemv from the product's shape
// (gemv_team: enough groups to fill the device, a bounded share of K per
// lane), in gemv_subgroup 32; other kernels built with this prelude never
// use it.
#ifndef GEMV_LANES
#define GEMV_LANES 1
#endif
#define LANES (TRANSPOSE_B ? GEMV_LANES : 1)
#define GEMV_OUTPUTS (WG / LANES)
#define GEMV_SUBGROUP 0

#define GEMV_TEAM_0 (get_local_id(0) / LANES)
#define GEMV_TEAMS_0 GEMV_OUTPUTS
#define GEMV_LANE_0 (get_local_id(0) % LANES)
#define GEMV_TEAM_SIZE_0 LANES
#define GEMV_SUM_0(acc, scratch) lanes_sum((acc), (scratch))
#define GEMV_SUM4_0(acc, scratch) lanes_sum4((acc), (scratch))
#define GEMV_ENTRY_0(op) op##_gemv
#define GEMV_FOR_EACH_OUTPUT_0(t) const uint t = GEMV_TEAM_0;

#define GEMV_TEAM_1 (LANES == 1 ? get_local_id(0) : get_sub_group_id())
#define GEMV_TEAMS_1 (LANES == 1 ? WG : get_num_sub_groups())
#define GEMV_LANE_1 (LANES == 1 ? 0 : get_sub_group_local_id())
#define GEMV_TEAM_SIZE_1 (LANES == 1 ? 1 : get_sub_group_size())
#define GEMV_SUM_1(acc, scratch) (LANES == 1 ? (acc) : sub_group_reduce_add(acc))
#define GEMV_SUM4_1(acc, scratch)                                                                       \
  (LANES == 1 ? (acc)                                                                                   \
              : (float4)(sub_group_reduce_add((acc).x), sub_group_reduce_add((acc).y),                  \
                         sub_group_reduce_add((acc).z), sub_group_reduce_add((acc).w)))
#define GEMV_ENTRY_1(op) op##_gemv_subgroup
#define GEMV_FOR_EACH_OUTPUT_1(t) for (uint t = GEMV_TEAM_1; t < GEMV_OUTPUTS; t += GEMV_TEAMS_1)

// The work-item's team, the number of teams, its lane in the team and the
// team's size; the team's sum of |acc| (lane 0 gets it; |scratch|: WG
// floats of local memory, used by gemv only), or of the four sums of a
// float4 |acc| at once (GEMV_SUM4; |scratch|: WG float4s); the kernel's
// entry point.
// `GEMV_FOR_EACH_OUTPUT(t) { ... }` runs the block for each of the group's
// outputs t this team computes: once in gemv, with no loop around it (its
// barriers stay at the top level of the kernel, where every compiler,
// PoCL's included, sees the whole group reach them); in gemv_subgroup, a
// loop over the group's outputs in steps of the subgroup count.
#define GEMV_TEAM KILN_CAT(GEMV_TEAM_, GEMV_SUBGROUP)
#define GEMV_TEAMS KILN_CAT(GEMV_TEAMS_, GEMV_SUBGROUP)
#define GEMV_LANE KILN_CAT(GEMV_LANE_, GEMV_SUBGROUP)
#define GEMV_TEAM_SIZE KILN_CAT(GEMV_TEAM_SIZE_, GEMV_SUBGROUP)
#define GEMV_SUM(acc, scratch) KILN_CAT(GEMV_SUM_, GEMV_SUBGROUP)(acc, scratch)
#define GEMV_SUM4(acc, scratch) KILN_CAT(GEMV_SUM4_, GEMV_SUBGROUP)(acc, scratch)
#define GEMV_ENTRY(op) KILN_CAT(GEMV_ENTRY_, GEMV_SUBGROUP)(op)
#define GEMV_FOR_EACH_OUTPUT(t) KILN_CAT(GEMV_FOR_EACH_OUTPUT_, GEMV_SUBGROUP)(t)

// The work-group's place in a gemv grid of |outputs| outputs a row, each
// group computing GEMV_OUTPUTS consecutive ones (kernel_table.cc's
// gemv_groups): the row of x it reads, and its first output.
size_t gemv_row(const size_t outputs) { return get_group_id(0) / ((outputs + GEMV_OUTPUTS - 1) / GEMV_OUTPUTS); }
size_t gemv_first_output(const size_t outputs) {
  return get_group_id(0) % ((outputs + GEMV_OUTPUTS - 1) / GEMV_OUTPUTS) * GEMV_OUTPUTS;
}

// Sums |acc| over the LANES work-items sharing an output; lane 0 gets it.
float lanes_sum(float acc, __local float* scratch) {
  if (LANES == 1) return acc;
  const uint lid = get_local_id(0);
  const uint lane = lid % LANES;
  scratch[lid] = acc;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = LANES / 2; s > 0; s >>= 1) {
    if (lane < s) scratch[lid] += scratch[lid + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  return scratch[lid];
}

// lanes_sum of four sums at once: one tree, one barrier per level.
float4 lanes_sum4(float4 acc, __local float4* scratch) {
  if (LANES == 1) return acc;
  const uint lid = get_local_id(0);
  const uint lane = lid % LANES;
  scratch[lid] = acc;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = LANES / 2; s > 0; s >>= 1) {
    if (lane < s) scratch[lid] += scratch[lid + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  return scratch[lid];
}
#endif

// Tiled product: one TILE x TILE block of outputs per work-group of
// TILE * TILE work-items, x and the weight staged through local memory
// (|as|, |bs|: TILE * (TILE + 1) floats each). Returns the work-item's
// output (row tm * TILE + lid / TILE, column tn * TILE + lid % TILE) of
// x[M, K] times weight W (N columns); 0 outside.
#define TILE 16
#define KILN_DEFINE_TILE(W)                                                                                   \
  float tile_in##W(__local float* as, __local float* bs, const __global STORAGE(IN0_DT)* x,                   \
                   const __global STORAGE(IN##W##_DT)* w, const size_t m_rows, const size_t n_cols, const size_t tm,      \
                   const size_t tn) {                                                                         \
    const uint ty = get_local_id(0) / TILE, tx = get_local_id(0) % TILE;                                      \
    const size_t m = tm * TILE + ty;                                                                          \
    float acc = 0.0f;                                                                                         \
    for (size_t k0 = 0; k0 < IN0_COLS; k0 += TILE) {                                                          \
      as[ty * (TILE + 1) + tx] = m < m_rows && k0 + tx < IN0_COLS ? LOAD(IN0_DT, x, m * IN0_COLS + k0 + tx) : 0.0f; \
      if (TRANSPOSE_B) {                                                                                      \
        const size_t n = tn * TILE + ty;                                                                      \
        bs[tx * (TILE + 1) + ty] =                                                                            \
            n < n_cols && k0 + tx < IN0_COLS ? LOAD(IN##W##_DT, w, n * IN0_COLS + k0 + tx) : 0.0f;                  \
      } else {                                                                                                \
        const size_t n = tn * TILE + tx;                                                                      \
        bs[ty * (TILE + 1) + tx] = n < n_cols && k0 + ty < IN0_COLS ? LOAD(IN##W##_DT, w, (k0 + ty) * n_cols + n) : 0.0f; \
      }                                                                                                       \
      barrier(CLK_LOCAL_MEM_FENCE);                                                                           \
      for (uint k = 0; k < TILE; ++k) acc += as[ty * (TILE + 1) + k] * bs[k * (TILE + 1) + tx];               \
      barrier(CLK_LOCAL_MEM_FENCE);                                                                           \
    }                                                                                                         \
    return acc;                                                                                               \
  }
