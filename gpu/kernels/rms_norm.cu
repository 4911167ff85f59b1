// rms_norm.cu: RMSNorm over the last axis of (N, C): y = x * rstd * weight,
// rstd = 1 / sqrt(mean(x^2) + eps), fp32 arithmetic.
//
// Forward: one block per row. Backward: dx = rstd * (g - x * rstd^2 * mean(g * x)) with
// g = dy * weight, one row at a time per block; block b takes rows b, b + G, b + 2G, ... and
// keeps its share of dW in partial[b, :] (each thread owns its columns: no atomics). A second
// kernel sums partial over the G blocks in order, so dW is deterministic.
#include "common.cuh"

namespace ck {

template <class T>
__device__ void rms_norm_forward(const T* __restrict__ x, const T* __restrict__ weight, T* __restrict__ y,
                                 float* __restrict__ rstd, int C, float eps) {
  __shared__ float scratch[32];
  const long long base = (long long)blockIdx.x * C;
  float ss = 0.0f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    float v = to_float(x[base + c]);
    ss += v * v;
  }
  const float r = rsqrtf(block_sum(ss, scratch) / (float)C + eps);
  if (threadIdx.x == 0) rstd[blockIdx.x] = r;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    y[base + c] = from_float<T>(to_float(x[base + c]) * r * to_float(weight[c]));
  }
}

template <class T>
__device__ void rms_norm_backward(const T* __restrict__ x, const T* __restrict__ weight,
                                  const float* __restrict__ rstd, const T* __restrict__ dy, T* __restrict__ dx,
                                  float* __restrict__ partial, int N, int C) {
  __shared__ float scratch[32];
  float* part = partial + (long long)blockIdx.x * C;
  for (int c = threadIdx.x; c < C; c += blockDim.x) part[c] = 0.0f;
  for (int row = blockIdx.x; row < N; row += gridDim.x) {
    const long long base = (long long)row * C;
    const float r = rstd[row];
    float dot = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
      dot += to_float(dy[base + c]) * to_float(weight[c]) * to_float(x[base + c]);
    }
    const float mean_gx = block_sum(dot, scratch) / (float)C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
      float xv = to_float(x[base + c]), g = to_float(dy[base + c]);
      dx[base + c] = from_float<T>(r * (g * to_float(weight[c]) - xv * r * r * mean_gx));
      part[c] += g * xv * r;
    }
  }
}

template <class T>
__device__ void rms_norm_dw(const float* __restrict__ partial, T* __restrict__ dw, int G, int C) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float total = 0.0f;
  for (int g = 0; g < G; ++g) total += partial[(long long)g * C + c];
  dw[c] = from_float<T>(total);
}

}  // namespace ck

#define CK_RMS_NORM(suffix, T)                                                                        \
  extern "C" __global__ void rms_norm_fwd_##suffix(const T* x, const T* weight, T* y, float* rstd,    \
                                                   int C, float eps) {                                \
    ck::rms_norm_forward<T>(x, weight, y, rstd, C, eps);                                              \
  }                                                                                                   \
  extern "C" __global__ void rms_norm_bwd_##suffix(const T* x, const T* weight, const float* rstd,    \
                                                   const T* dy, T* dx, float* partial, int N, int C) { \
    ck::rms_norm_backward<T>(x, weight, rstd, dy, dx, partial, N, C);                                 \
  }                                                                                                   \
  extern "C" __global__ void rms_norm_dw_##suffix(const float* partial, T* dw, int G, int C) {        \
    ck::rms_norm_dw<T>(partial, dw, G, C);                                                            \
  }

CK_RMS_NORM(f32, float)
CK_RMS_NORM(bf16, ck::bf16)
