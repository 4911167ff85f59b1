// common.cuh: helpers every kernel file shares: dtype conversion, warp and block reductions,
// dynamic shared memory. Compiles under nvcc/NVRTC and under the CPU emulator (cuda_emu.h).
#pragma once

#ifndef CORPUSKIT_EMULATE
#include <cuda_bf16.h>
#endif

namespace ck {

typedef __nv_bfloat16 bf16;

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(bf16 x) { return __bfloat162float(x); }

template <class T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ bf16 from_float<bf16>(float x) { return __float2bfloat16_rn(x); }

__device__ __forceinline__ float neg_inf() { return -__int_as_float(0x7f800000); }

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Block-wide sum and max for a block of whole warps. `scratch` holds 32 floats of shared memory;
// every thread gets the result, combined in the same order on every thread (deterministic).
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  v = warp_sum(v);
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < (int)(blockDim.x >> 5); ++w) total += scratch[w];
  __syncthreads();
  return total;
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  v = warp_max(v);
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;
  __syncthreads();
  float best = neg_inf();
  for (int w = 0; w < (int)(blockDim.x >> 5); ++w) best = fmaxf(best, scratch[w]);
  __syncthreads();
  return best;
}

// Tensor cores: D += A·B for one 16x16x8 tile, mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// (sm_80+). Fragments as the PTX ISA lays them out, with g = lane / 4, t = lane % 4, two bf16 per
// register (the lower column or k in the low half): a[0] row g, cols 2t..2t+1; a[1] row g+8;
// a[2] row g, cols 2t+8..2t+9; a[3] row g+8, cols 2t+8..; b[0] k 2t..2t+1 of column g; b[1]
// k 2t+8..; d[0], d[1] row g, cols 2t..2t+1; d[2], d[3] row g+8. The emulator's twin
// (emu::mma_m16n8k16_bf16) implements the same layout; on the CPU it accumulates in k order.
__device__ __forceinline__ void mma_m16n8k16_bf16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
#ifdef CORPUSKIT_EMULATE
  ::emu::mma_m16n8k16_bf16(d, a, b);
#else
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
}

}  // namespace ck

// Dynamic shared memory as a typed pointer, and checks (emulator only) that the launch gave
// the kernel at least the bytes it carves out and the grid its tiles imply.
#ifdef CORPUSKIT_EMULATE
#define CK_DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(::emu::dynamic_shared())
#define CK_CHECK_DYNAMIC_SHARED(bytes, kernel) ::emu::check_dynamic_shared((bytes), (kernel))
#define CK_EMULATOR_EXPECT(cond, message) \
  do {                                    \
    if (!(cond)) ::emu::state.block->fail(message); \
  } while (0)
#else
#define CK_DYNAMIC_SHARED(type, name)                      \
  extern __shared__ __align__(16) unsigned char ck_dynamic_shared_[]; \
  type* name = reinterpret_cast<type*>(ck_dynamic_shared_)
#define CK_CHECK_DYNAMIC_SHARED(bytes, kernel) ((void)0)
#define CK_EMULATOR_EXPECT(cond, message) ((void)0)
#endif
