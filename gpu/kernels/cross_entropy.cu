// cross_entropy.cu: fused softmax cross-entropy, loss and gradient in one kernel.
//
// One block per row of (N, V) logits. Pass 1 reads the row once, keeping a running (max, sum
// of exp) per thread; a block reduction gives the row's log-sum-exp. Pass 2 re-reads the row
// (a row of V floats is served from L2 on the GPU) and writes the gradient once:
// (softmax - onehot(target)) / n_valid. Rows whose target is ignore_index write zeros and a
// zero loss. The per-row losses are summed by the caller in a fixed order (deterministic).
#include "common.cuh"

namespace ck {

template <class T>
__device__ void cross_entropy(const T* __restrict__ logits, const long long* __restrict__ targets,
                              T* __restrict__ dlogits, float* __restrict__ row_loss,
                              const int* __restrict__ n_valid, int V, long long ignore_index) {
  __shared__ float scratch[32];
  const long long row = blockIdx.x;
  const T* x = logits + row * V;
  T* dx = dlogits + row * V;
  const long long target = targets[row];
  if (target == ignore_index) {  // the whole block takes this branch together
    for (int c = threadIdx.x; c < V; c += blockDim.x) dx[c] = from_float<T>(0.0f);
    if (threadIdx.x == 0) row_loss[row] = 0.0f;
    return;
  }
  float m = neg_inf();
  float s = 0.0f;
  for (int c = threadIdx.x; c < V; c += blockDim.x) {
    float v = to_float(x[c]);
    if (v > m) {
      s = s * expf(m - v) + 1.0f;
      m = v;
    } else {
      s += expf(v - m);
    }
  }
  const float row_max = block_max(m, scratch);
  s = m == neg_inf() ? 0.0f : s * expf(m - row_max);
  const float lse = row_max + logf(block_sum(s, scratch));
  const float inv_n = 1.0f / (float)(*n_valid);
  if (threadIdx.x == 0) row_loss[row] = lse - to_float(x[target]);
  for (int c = threadIdx.x; c < V; c += blockDim.x) {
    float p = expf(to_float(x[c]) - lse);
    dx[c] = from_float<T>((p - (c == target ? 1.0f : 0.0f)) * inv_n);
  }
}

}  // namespace ck

#define CK_CROSS_ENTROPY(suffix, T)                                                                  \
  extern "C" __global__ void cross_entropy_##suffix(const T* logits, const long long* targets,        \
                                                    T* dlogits, float* row_loss, const int* n_valid, \
                                                    int V, long long ignore_index) {                 \
    ck::cross_entropy<T>(logits, targets, dlogits, row_loss, n_valid, V, ignore_index);              \
  }

CK_CROSS_ENTROPY(f32, float)
CK_CROSS_ENTROPY(bf16, ck::bf16)
