// What every kiln Vulkan kernel shares: the operand addresses, the step
// values, typed loads and stores, and the specialisation constants the
// plugin derives from a dispatch (docs/vulkan.md, "Constants").
//
// Operands are buffer device addresses in push constants, recorded once
// with the command buffer: pc.operand[i] is input i for i < num_inputs,
// then the outputs in order (OUT(j)). pc.steps is the step-values buffer,
// one uint per Program slot, written by the host before each step.
// pc.scratch is the dispatch's own zero-filled scratch, for a kernel whose
// kernel-table row asks for one (0 otherwise); it keeps its contents
// between steps.
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_buffer_reference_uvec2 : require
#extension GL_EXT_shader_16bit_storage : require

#define KILN_MAX_OPERANDS 13  // backends/vulkan/device.h's kMaxOperands

// Dtype codes, as program::DType numbers them.
#define DT_F32 0
#define DT_F16 1
#define DT_BF16 2
#define DT_I32 3

// An extent the plugin fills from an operand's shape: a static factor and
// the step slot it multiplies (-1: none), so a symbolic dim such as T is
// read at run time: EXT(in0_rows).
#define EXTENT(name, id)                              \
  layout(constant_id = id) const int name = 1;        \
  layout(constant_id = id + 1) const int name##_slot = -1;
#define EXT(name) extent_value(name, name##_slot)

// An operand's dtype code, "in0_dtype".
#define DTYPE(name, id) layout(constant_id = id) const int name = DT_F32;

// Spec ids 0-9 are common to every kernel; a kernel numbers its own from 10.
layout(constant_id = 0) const int wg_size = 256;     // invocations per workgroup
layout(constant_id = 1) const int num_inputs = 1;    // the dispatch's input count
layout(constant_id = 2) const int slot_P = -1;       // the slot named "P", or -1: P = 0
layout(local_size_x_id = 0) in;

#define IN(i) (i)
#define OUT(j) (num_inputs + (j))

layout(buffer_reference, std430, buffer_reference_align = 4) readonly buffer StepValues { uint v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) buffer F32Buf { float v[]; };
layout(buffer_reference, std430, buffer_reference_align = 2) buffer F16Buf { float16_t v[]; };
layout(buffer_reference, std430, buffer_reference_align = 2) buffer U16Buf { uint16_t v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) buffer I32Buf { int v[]; };

layout(push_constant) uniform Operands {
  uvec2 steps;
  uvec2 scratch;
  uvec2 operand[KILN_MAX_OPERANDS];
} pc;

uint step_value(int slot) { return StepValues(pc.steps).v[slot]; }
uint extent_value(int factor, int slot) { return slot < 0 ? uint(factor) : uint(factor) * step_value(slot); }
uint past() { return slot_P < 0 ? 0u : step_value(slot_P); }

// The workgroup's index in a grid the plugin may fold into x and y
// (maxComputeWorkGroupCount[0] can be 65535).
uint group_index() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }
uint global_index() { return group_index() * uint(wg_size) + gl_LocalInvocationID.x; }

float load(int operand, int dtype, uint i) {
  if (dtype == DT_F16) return float(F16Buf(pc.operand[operand]).v[i]);
  if (dtype == DT_BF16) return uintBitsToFloat(uint(U16Buf(pc.operand[operand]).v[i]) << 16);
  if (dtype == DT_I32) return float(I32Buf(pc.operand[operand]).v[i]);
  return F32Buf(pc.operand[operand]).v[i];
}

int load_int(int operand, uint i) { return I32Buf(pc.operand[operand]).v[i]; }

// bf16 by round to nearest even; NaN stays NaN.
uint16_t to_bf16(float x) {
  uint bits = floatBitsToUint(x);
  if (isnan(x)) return uint16_t((bits >> 16) | 0x40u);
  return uint16_t((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

void store(int operand, int dtype, uint i, float x) {
  if (dtype == DT_F16) {
    F16Buf(pc.operand[operand]).v[i] = float16_t(x);
  } else if (dtype == DT_BF16) {
    U16Buf(pc.operand[operand]).v[i] = to_bf16(x);
  } else if (dtype == DT_I32) {
    I32Buf(pc.operand[operand]).v[i] = int(x);
  } else {
    F32Buf(pc.operand[operand]).v[i] = x;
  }
}

void store_int(int operand, uint i, int x) { I32Buf(pc.operand[operand]).v[i] = x; }
