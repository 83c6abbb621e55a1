// transpose(x): result dim d is input dim PERM<d>, for ranks up to 6. One
// work-item per result element, which walks its index from the last dim
// and gathers the input element; the bits are copied.
#if IN0_RANK == 1
#define KILN_PERM {PERM0}
#elif IN0_RANK == 2
#define KILN_PERM {PERM0, PERM1}
#elif IN0_RANK == 3
#define KILN_PERM {PERM0, PERM1, PERM2}
#elif IN0_RANK == 4
#define KILN_PERM {PERM0, PERM1, PERM2, PERM3}
#elif IN0_RANK == 5
#define KILN_PERM {PERM0, PERM1, PERM2, PERM3, PERM4}
#elif IN0_RANK == 6
#define KILN_PERM {PERM0, PERM1, PERM2, PERM3, PERM4, PERM5}
#else
#error "transpose takes ranks 1 to 6"
#endif

__kernel void transpose_elementwise(KILN_PARAMS) {
  const size_t i = get_global_id(0);
  if (i >= OUT0_COUNT) return;
  const int in_dims[IN0_RANK] = IN0_DIMS;
  const int out_dims[OUT0_RANK] = OUT0_DIMS;
  const int perm[IN0_RANK] = KILN_PERM;
  size_t strides[IN0_RANK];
  strides[IN0_RANK - 1] = 1;
  for (int d = IN0_RANK - 1; d > 0; --d) strides[d - 1] = strides[d] * in_dims[d];
  size_t rest = i, source = 0;
  for (int d = OUT0_RANK - 1; d >= 0; --d) {
    source += rest % out_dims[d] * strides[perm[d]];
    rest /= out_dims[d];
  }
  OUT(0)[i] = IN(0)[source];
}
