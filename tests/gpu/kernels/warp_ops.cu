// A test kernel for the emulator's warp and block primitives: each thread records what every
// primitive returned, so the test can compare against the values CUDA defines.
#include "common.cuh"

extern "C" __global__ void warp_ops(int* out, float* sums, int* counter) {
  CK_DYNAMIC_SHARED(int, dyn);
  const int tid = threadIdx.x, lane = tid & 31;
  const long long base = ((long long)blockIdx.x * blockDim.x + tid) * 8;
  out[base + 0] = __shfl_sync(0xffffffffu, tid * 10, 3);
  out[base + 1] = __shfl_xor_sync(0xffffffffu, tid, 5);
  out[base + 2] = __shfl_down_sync(0xffffffffu, tid, 4);
  out[base + 3] = __shfl_up_sync(0xffffffffu, tid, 2);
  out[base + 4] = (int)__ballot_sync(0xffffffffu, lane % 3 == 0);
  out[base + 5] = __any_sync(0xffffffffu, tid == 37);
  out[base + 6] = __all_sync(0xffffffffu, lane < 40);
  dyn[tid] = tid * 2;
  __syncthreads();
  out[base + 7] = dyn[(tid + 1) % blockDim.x];
  __shared__ float scratch[32];
  float total = ck::block_sum((float)tid, scratch);
  if (tid == 0) sums[blockIdx.x] = total;
  atomicAdd(counter, 1);
}

// Thread 0 skips a barrier the others reach: the emulator must report the divergence.
extern "C" __global__ void divergent_barrier(int* out) {
  if (threadIdx.x != 0) __syncthreads();
  out[threadIdx.x] = 1;
}
