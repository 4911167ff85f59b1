// A test kernel for the wrapped tensor-core instruction: one warp computes D = A·B + C for a
// 16x16 bf16 A and 16x8 bf16 B (row-major in memory), building the fragments by the PTX
// layout documented beside ck::mma_m16n8k16_bf16. Run on the emulator (the CPU twin) and, in
// make gpu-check, on the GPU: both must match NumPy.
#include "common.cuh"

__device__ __forceinline__ unsigned pack_bf16(const ck::bf16* p) {
  unsigned short lo, hi;
  memcpy(&lo, p, 2);
  memcpy(&hi, p + 1, 2);
  return (unsigned)lo | ((unsigned)hi << 16);
}

extern "C" __global__ void mma_tile(const ck::bf16* A, const ck::bf16* B, const float* C, float* D) {
  const unsigned lane = threadIdx.x, g = lane / 4, t = lane % 4;
  unsigned a[4], b[2];
  for (unsigned r = 0; r < 4; ++r) a[r] = pack_bf16(A + (g + 8 * (r & 1)) * 16 + 2 * t + 8 * (r >> 1));
  for (unsigned r = 0; r < 2; ++r) {  // B is K x N row-major: a fragment register holds k and k+1 of column g
    ck::bf16 pair[2] = {B[(2 * t + 8 * r) * 8 + g], B[(2 * t + 8 * r + 1) * 8 + g]};
    b[r] = pack_bf16(pair);
  }
  float d[4];
  for (unsigned i = 0; i < 4; ++i) d[i] = C[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)];
  ck::mma_m16n8k16_bf16(d, a, b);
  for (unsigned i = 0; i < 4; ++i) D[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)] = d[i];
}
