// softmax.cu: row softmax forward and backward over the last axis of a (rows, cols) array.
//
// One block per row; each thread walks the row with stride blockDim.x. Forward: one read pass
// keeps a running (max, sum of exp) per thread, a block reduction combines them, a second pass
// writes exp(x - max) / sum. -inf entries give 0; a row of only -inf gives zeros, not NaN.
// Backward: dx = y * (dy - sum(y * dy)). fp32 arithmetic for every input dtype.
#include "common.cuh"

namespace ck {

template <class T>
__device__ void softmax_forward(const T* __restrict__ x, T* __restrict__ y, int cols) {
  __shared__ float scratch[32];
  const T* row = x + (long long)blockIdx.x * cols;
  T* out = y + (long long)blockIdx.x * cols;
  float m = neg_inf();
  float s = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    float v = to_float(row[c]);
    if (v > m) {
      s = s * expf(m - v) + 1.0f;  // m = -inf at first: expf(-inf) = 0
      m = v;
    } else if (v != neg_inf()) {
      s += expf(v - m);
    }
  }
  float row_max = block_max(m, scratch);
  s = (m == neg_inf()) ? 0.0f : s * expf(m - row_max);
  float row_sum = block_sum(s, scratch);
  float inv = row_max == neg_inf() ? 0.0f : 1.0f / row_sum;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    float v = to_float(row[c]);
    out[c] = from_float<T>(row_max == neg_inf() ? 0.0f : expf(v - row_max) * inv);
  }
}

template <class T>
__device__ void softmax_backward(const T* __restrict__ y, const T* __restrict__ dy, T* __restrict__ dx,
                                 int cols) {
  __shared__ float scratch[32];
  long long base = (long long)blockIdx.x * cols;
  float dot = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) dot += to_float(y[base + c]) * to_float(dy[base + c]);
  dot = block_sum(dot, scratch);
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    float yv = to_float(y[base + c]);
    dx[base + c] = from_float<T>(yv * (to_float(dy[base + c]) - dot));
  }
}

}  // namespace ck

#define CK_SOFTMAX(suffix, T)                                                                        \
  extern "C" __global__ void softmax_fwd_##suffix(const T* x, T* y, int cols) {                      \
    ck::softmax_forward<T>(x, y, cols);                                                              \
  }                                                                                                  \
  extern "C" __global__ void softmax_bwd_##suffix(const T* y, const T* dy, T* dx, int cols) {        \
    ck::softmax_backward<T>(y, dy, dx, cols);                                                        \
  }

CK_SOFTMAX(f32, float)
CK_SOFTMAX(bf16, ck::bf16)
