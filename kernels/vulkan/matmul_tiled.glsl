// Tiled schedule for many rows (prefill): a workgroup of 16 x 16
// invocations computes a 16 x 16 tile of the output, staging 16 x 16 tiles
// of a and of each weight in shared memory. The grid: ceil(rows / 16) *
// ceil(columns / 16) workgroups, dispatched for the rows' bound; a tile
// wholly past this step's rows returns at once.
#include "matmul.glsl"
const uint kTile = 16u;
shared float a_tile[kTile][kTile + 1u];
shared float w_tile[2][kTile][kTile + 1u];

void main() {
  uint rows = EXT(out0_rows);
  uint tiles_n = (kColumns + kTile - 1u) / kTile;
  uint tile_m = group_index() / tiles_n, tile_n = group_index() % tiles_n;
  if (tile_m * kTile >= rows) return;  // uniform per workgroup
  uint tx = gl_LocalInvocationID.x % kTile, ty = gl_LocalInvocationID.x / kTile;
  uint row = tile_m * kTile + ty;
  uint col = tile_n * kTile + tx;
  float product[2] = float[2](0.0, 0.0);
  if (MATMUL_KIND == KIND_PLAIN && in1_rank > 2) {
    // A batched b: a tile's rows may span batches, so each invocation reads
    // its own batch's weights directly.
    if (row < rows && col < kColumns) {
      for (uint k = 0u; k < kK; ++k) product[0] += load_x(row, k) * load_w(0, row, k, col, kColumns);
      finish(row, col, product[0], 0.0);
    }
    return;
  }
  for (uint k0 = 0u; k0 < kK; k0 += kTile) {
    // a_tile[ty][tx] = a[row, k0 + tx]; w_tile[p][ty][tx] = w[k0 + ty, column tile_n * 16 + tx]
    a_tile[ty][tx] = row < rows && k0 + tx < kK ? load_x(row, k0 + tx) : 0.0;
    uint wcol = tile_n * kTile + tx;
    for (int p = 0; p < kWeights; ++p) {
      float w = 0.0;
      if (wcol < kColumns && k0 + ty < kK) {
        int seg = segment(wcol);
        w = load_w(weight_of(p, seg), 0u, k0 + ty, wcol - segment_start(seg), segment_cols(seg));
      }
      w_tile[p][ty][tx] = w;
    }
    barrier();
    for (uint kk = 0u; kk < kTile; ++kk) {
      float a = a_tile[ty][kk];
      for (int p = 0; p < kWeights; ++p) product[p] += a * w_tile[p][kk][tx];
    }
    barrier();
  }
  if (row < rows && col < kColumns) finish(row, col, product[0], product[1]);
}
