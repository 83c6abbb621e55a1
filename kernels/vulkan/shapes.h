// Kernel shapes that both a GLSL kernel and the grid that launches it
// (kernel_table.cc) must agree on; GLSL and C++ both include this file.
#ifndef KILN_VULKAN_SHAPES_H
#define KILN_VULKAN_SHAPES_H
// cast_reference.comp: the elements each invocation converts or copies, in
// packets of 8 (a multiple of 8).
#define KILN_VULKAN_CAST_ELEMENTS 16
// matmul_gemv.glsl: each subgroup (gemv_subgroup) or workgroup (gemv)
// computes this many adjacent output columns, so one read of x serves them.
#define KILN_VULKAN_GEMV_COLUMNS 2
// attention_split.comp: the KV rows one workgroup reads (a power of two
// dividing the workgroup). 32 on an A/B on the H100 (Llama-3.2-1B shape,
// context 512-640): 15.2 us a layer, against 17.1 (64) and 16.8 (16).
#define KILN_VULKAN_ATTENTION_KEYS 32
// attention_decode.comp: the KV rows one workgroup reads, one per
// invocation, so at most its workgroup size (wg_size, 256; fewer leaves
// invocations idle). A context of up to this many rows is one workgroup
// per (row, kv head) and no combine pass. 128 on an A/B on the H100
// (Llama-3.2-1B shape, context 512-640, kiln bench decode): 719.4 tok/s,
// against 714.5 (256) and 711.0 (64).
#define KILN_VULKAN_ATTENTION_DECODE_KEYS 128
// top_k_split.comp: the logits one workgroup selects from.
#define KILN_VULKAN_TOP_K_SLICE 1024
#endif
