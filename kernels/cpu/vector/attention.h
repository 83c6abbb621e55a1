#pragma once

#include <cstdint>

namespace kiln::kernels::cpu::vector {

// One query row's attention over the first `keys` rows of a key and a value
// cache: out = sum_j softmax_j(scale * q . k_j) v_j. The keys are taken in
// blocks with a running maximum and sum (the online softmax), so any number
// of keys needs no scratch beyond the stack; scores, exponentials and sums
// are f32 (exp to 1 ulp), so a result may differ from an f64 softmax in the
// last bits.
struct AttentionRowArgs {
  const float* q = nullptr;  // [head_dim]
  const void* k = nullptr;   // key j: head_dim elements at k + j * row_stride; the
  const void* v = nullptr;   // element type is the one the function names
  int64_t row_stride = 0;    // elements from one key (or value) row to the next
  int64_t keys = 0;          // at least 1
  int64_t head_dim = 0;
  float scale = 1.0f;
  float* out = nullptr;  // [head_dim]
};

// Writes out[0, head_dim) and nothing else; reads q, and head_dim elements
// of each of the first `keys` rows of k and v. Runs on the calling thread,
// allocates nothing, needs no alignment and dispatches to the best
// instruction set this machine has (targets.h).
//
// Cache rows as f32.
void attend_row_f32(const AttentionRowArgs& args);
// Cache rows as IEEE binary16, widened to f32 in registers.
void attend_row_f16(const AttentionRowArgs& args);
// Cache rows as bfloat16, widened to f32 in registers.
void attend_row_bf16(const AttentionRowArgs& args);

}  // namespace kiln::kernels::cpu::vector
