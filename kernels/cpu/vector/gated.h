#pragma once

#include <cstdint>

namespace kiln::kernels::cpu::vector {

// out[i] = silu(gate[i]) * up[i] = gate[i] / (1 + exp(-gate[i])) * up[i] for
// i < count, in f32 (exp to 1 ulp): the gated product of a SwiGLU feed
// forward. `out` may be `gate` or `up` (each element is read before it is
// written); no other overlap. Runs on the calling thread, allocates nothing,
// needs no alignment and dispatches to the best instruction set this
// machine has (targets.h).
void silu_product(const float* gate, const float* up, float* out, int64_t count);

}  // namespace kiln::kernels::cpu::vector
