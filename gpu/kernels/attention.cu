// attention.cu: FlashAttention-style attention forward and backward, fp32 arithmetic on fp32 or
// bf16 inputs, head dims 32/64/128, GQA, causal (aligned bottom-right when Tq < Tk), optional
// key padding mask, packed sequences (a document id per position; attention stays inside one).
// Tensors are contiguous (B, H, T, D); lse and delta are (B, Hq, Tq) float32.
//
// Versions: (1) scalar FMA on shared-memory tiles (this file). Every block has 128 threads laid
// out as 16 row groups x 8 column groups; a thread owns rows rg*RM .. rg*RM+RM-1 and columns
// cg, cg+8, cg+16, ... of each tile product, so its fragment stays in registers.
//
// Forward (grid: query tiles x B*Hq): for each key tile, S = Q K^T * scale (masked to -inf),
// running row max and sum rescale the O accumulator (online softmax); T x T is never stored.
// Backward recomputes P = exp(S - lse) from the saved lse: a preprocess writes
// delta = rowsum(dO * O); the dK/dV kernel (grid: key tiles x B*Hkv) loops over the query heads
// of its KV group and their query tiles, so GQA gradients are summed in registers; the dQ
// kernel (grid: query tiles x B*Hq) loops over key tiles. No atomics: results are
// deterministic and independent of block order.
#include "common.cuh"

namespace ck {

constexpr int kThreads = 128;
constexpr int kRowGroups = 16;
constexpr int kColGroups = 8;

// acc[i][j] += sum_k A[row_i][k] * B[col_j][k]: a tile of A B^T (both row-major in shared memory).
template <int M, int N, int K>
__device__ __forceinline__ void tile_abt(float (&acc)[M / kRowGroups][N / kColGroups], const float* A, int lda,
                                         const float* B, int ldb, int rg, int cg) {
  constexpr int RM = M / kRowGroups, RN = N / kColGroups;
#pragma unroll 4
  for (int k = 0; k < K; ++k) {
    float a[RM], b[RN];
#pragma unroll
    for (int i = 0; i < RM; ++i) a[i] = A[(rg * RM + i) * lda + k];
#pragma unroll
    for (int j = 0; j < RN; ++j) b[j] = B[(cg + kColGroups * j) * ldb + k];
#pragma unroll
    for (int i = 0; i < RM; ++i)
#pragma unroll
      for (int j = 0; j < RN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
  }
}

// acc[i][j] += sum_k A[row_i][k] * B[k][col_j]: a tile of A B.
template <int M, int N, int K>
__device__ __forceinline__ void tile_ab(float (&acc)[M / kRowGroups][N / kColGroups], const float* A, int lda,
                                        const float* B, int ldb, int rg, int cg) {
  constexpr int RM = M / kRowGroups, RN = N / kColGroups;
#pragma unroll 4
  for (int k = 0; k < K; ++k) {
    float a[RM], b[RN];
#pragma unroll
    for (int i = 0; i < RM; ++i) a[i] = A[(rg * RM + i) * lda + k];
#pragma unroll
    for (int j = 0; j < RN; ++j) b[j] = B[k * ldb + cg + kColGroups * j];
#pragma unroll
    for (int i = 0; i < RM; ++i)
#pragma unroll
      for (int j = 0; j < RN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
  }
}

template <int M, int N>
__device__ __forceinline__ void zero(float (&acc)[M][N]) {
#pragma unroll
  for (int i = 0; i < M; ++i)
#pragma unroll
    for (int j = 0; j < N; ++j) acc[i][j] = 0.0f;
}

// Copies `rows` rows of D elements from global (row-major, starting at src) into shared memory
// with leading dimension ld, as float; rows at or past `valid` are zero.
template <class T, int D>
__device__ __forceinline__ void load_rows(float* dst, int ld, const T* __restrict__ src, int rows, int valid) {
  for (int idx = threadIdx.x; idx < rows * D; idx += kThreads) {
    int r = idx / D, c = idx % D;
    dst[r * ld + c] = r < valid ? to_float(src[(long long)r * D + c]) : 0.0f;
  }
}

struct AttnShape {
  int B, Hq, Hkv, Tq, Tk;
  float scale;
  int causal;
  const unsigned char* key_mask;  // (B, Tk), nonzero = attend; read only when has_mask
  int has_mask;
  const int* segments;  // (Tk,) document id per position of packed sequences; read only when has_segments
  int has_segments;
};

__device__ __forceinline__ bool attends(const AttnShape& s, int b, int qi, int kj) {
  if (qi >= s.Tq || kj >= s.Tk) return false;
  if (s.causal && kj > qi + (s.Tk - s.Tq)) return false;
  if (s.has_mask && !s.key_mask[(long long)b * s.Tk + kj]) return false;
  if (s.has_segments && s.segments[qi] != s.segments[kj]) return false;  // never across documents
  return true;
}

template <int D, int BM, int BN>
struct FwdSmem {
  static constexpr int ldq = D + 1, ldk = D + 1, ldv = D, lds = BN + 1;
  static constexpr int floats = BM * ldq + BN * ldk + BN * ldv + BM * lds + 3 * BM;
  static constexpr int bytes = floats * 4;
};

template <class T, int D, int BM, int BN>
__device__ void attention_forward(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                                  T* __restrict__ o, float* __restrict__ lse, AttnShape s) {
  using L = FwdSmem<D, BM, BN>;
  constexpr int RM = BM / kRowGroups, RS = BN / kColGroups, RO = D / kColGroups;
  constexpr int TPR = kThreads / BM;  // threads sharing one row in the softmax step
  CK_CHECK_DYNAMIC_SHARED(L::bytes, "attention forward");
  CK_EMULATOR_EXPECT(gridDim.x == (unsigned)((s.Tq + BM - 1) / BM), "attention forward: grid.x != ceil(Tq / BM)");
  CK_DYNAMIC_SHARED(float, smem);
  float* Qs = smem;
  float* Ks = Qs + BM * L::ldq;
  float* Vs = Ks + BN * L::ldk;
  float* Ss = Vs + BN * L::ldv;
  float* m_s = Ss + BM * L::lds;
  float* l_s = m_s + BM;
  float* a_s = l_s + BM;

  const int tid = threadIdx.x, rg = tid / kColGroups, cg = tid % kColGroups;
  const int bh = blockIdx.y, b = bh / s.Hq, h = bh % s.Hq, kvh = h / (s.Hq / s.Hkv);
  const int q0 = blockIdx.x * BM;
  const T* qb = q + ((long long)bh * s.Tq + q0) * D;
  const T* kb = k + (long long)(b * s.Hkv + kvh) * s.Tk * D;
  const T* vb = v + (long long)(b * s.Hkv + kvh) * s.Tk * D;

  load_rows<T, D>(Qs, L::ldq, qb, BM, s.Tq - q0);
  if (tid < BM) {
    m_s[tid] = neg_inf();
    l_s[tid] = 0.0f;
  }
  float acc[RM][RO];
  zero(acc);
  int kv_end = s.Tk;
  if (s.causal) kv_end = min(s.Tk, q0 + BM + (s.Tk - s.Tq));

  for (int k0 = 0; k0 < kv_end; k0 += BN) {
    __syncthreads();  // the previous tile's K, V, S are no longer read
    load_rows<T, D>(Ks, L::ldk, kb + (long long)k0 * D, BN, s.Tk - k0);
    load_rows<T, D>(Vs, L::ldv, vb + (long long)k0 * D, BN, s.Tk - k0);
    __syncthreads();
    float sc[RM][RS];
    zero(sc);
    tile_abt<BM, BN, D>(sc, Qs, L::ldq, Ks, L::ldk, rg, cg);
#pragma unroll
    for (int i = 0; i < RM; ++i)
#pragma unroll
      for (int j = 0; j < RS; ++j) {
        int r = rg * RM + i, c = cg + kColGroups * j;
        Ss[r * L::lds + c] = attends(s, b, q0 + r, k0 + c) ? sc[i][j] * s.scale : neg_inf();
      }
    __syncthreads();
    {  // online softmax: TPR adjacent threads share row r
      const int r = tid / TPR, part = tid % TPR;
      float mt = neg_inf();
      for (int c = part; c < BN; c += TPR) mt = fmaxf(mt, Ss[r * L::lds + c]);
#pragma unroll
      for (int off = TPR / 2; off > 0; off >>= 1) mt = fmaxf(mt, __shfl_xor_sync(0xffffffffu, mt, off));
      const float m_old = m_s[r];
      const float m_new = fmaxf(m_old, mt);
      const float m_use = m_new == neg_inf() ? 0.0f : m_new;
      float ps = 0.0f;
      for (int c = part; c < BN; c += TPR) {
        float p = expf(Ss[r * L::lds + c] - m_use);
        Ss[r * L::lds + c] = p;
        ps += p;
      }
#pragma unroll
      for (int off = TPR / 2; off > 0; off >>= 1) ps += __shfl_xor_sync(0xffffffffu, ps, off);
      if (part == 0) {
        float alpha = expf(m_old - m_use);
        l_s[r] = l_s[r] * alpha + ps;
        m_s[r] = m_new;
        a_s[r] = alpha;
      }
    }
    __syncthreads();
#pragma unroll
    for (int i = 0; i < RM; ++i) {
      float alpha = a_s[rg * RM + i];
#pragma unroll
      for (int j = 0; j < RO; ++j) acc[i][j] *= alpha;
    }
    tile_ab<BM, D, BN>(acc, Ss, L::lds, Vs, L::ldv, rg, cg);
  }
  __syncthreads();
#pragma unroll
  for (int i = 0; i < RM; ++i) {
    int r = rg * RM + i;
    if (q0 + r < s.Tq) {
      float l = l_s[r];
      float inv = l > 0.0f ? __fdividef(1.0f, l) : 0.0f;
      T* orow = o + ((long long)bh * s.Tq + q0 + r) * D;
#pragma unroll
      for (int j = 0; j < RO; ++j) orow[cg + kColGroups * j] = from_float<T>(acc[i][j] * inv);
    }
  }
  if (tid < BM && q0 + tid < s.Tq) {
    float l = l_s[tid];
    lse[(long long)bh * s.Tq + q0 + tid] = l > 0.0f ? m_s[tid] + logf(l) : neg_inf();
  }
}

// delta[row] = sum_d o[row, d] * dout[row, d]; one warp per row, four rows per block.
template <class T>
__device__ void attention_backward_pre(const T* __restrict__ o, const T* __restrict__ dout,
                                       float* __restrict__ delta, int rows, int D) {
  const int row = blockIdx.x * (kThreads / 32) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  float acc = 0.0f;
  if (row < rows) {
    for (int d = lane; d < D; d += 32) acc += to_float(o[(long long)row * D + d]) * to_float(dout[(long long)row * D + d]);
  }
  acc = warp_sum(acc);
  if (row < rows && lane == 0) delta[row] = acc;
}

// P = exp(S * scale - lse) where attended (0 elsewhere, and 0 for a row whose lse is -inf).
__device__ __forceinline__ float recompute_p(float score, float scale, float row_lse, bool ok) {
  return (ok && row_lse != neg_inf()) ? expf(score * scale - row_lse) : 0.0f;
}

template <int D, int BM, int BN>
struct DkdvSmem {
  static constexpr int ld = D + 1, ldt = BM + 1;
  static constexpr int floats = 2 * BN * ld + 2 * BM * ld + 2 * BN * ldt + 2 * BM;
  static constexpr int bytes = floats * 4;
};

template <class T, int D, int BM, int BN>
__device__ void attention_backward_dkdv(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                                        const T* __restrict__ dout, const float* __restrict__ lse,
                                        const float* __restrict__ delta, T* __restrict__ dk, T* __restrict__ dv,
                                        AttnShape s) {
  using L = DkdvSmem<D, BM, BN>;
  constexpr int RM = BN / kRowGroups, RT = BM / kColGroups, RO = D / kColGroups;
  CK_CHECK_DYNAMIC_SHARED(L::bytes, "attention backward dK/dV");
  CK_EMULATOR_EXPECT(gridDim.x == (unsigned)((s.Tk + BN - 1) / BN), "attention dK/dV: grid.x != ceil(Tk / BN)");
  CK_DYNAMIC_SHARED(float, smem);
  float* Ks = smem;
  float* Vs = Ks + BN * L::ld;
  float* Qs = Vs + BN * L::ld;
  float* dOs = Qs + BM * L::ld;
  float* Pt = dOs + BM * L::ld;
  float* dSt = Pt + BN * L::ldt;
  float* lse_s = dSt + BN * L::ldt;
  float* delta_s = lse_s + BM;

  const int tid = threadIdx.x, rg = tid / kColGroups, cg = tid % kColGroups;
  const int bkv = blockIdx.y, b = bkv / s.Hkv, kvh = bkv % s.Hkv, group = s.Hq / s.Hkv;
  const int k0 = blockIdx.x * BN;
  load_rows<T, D>(Ks, L::ld, k + ((long long)bkv * s.Tk + k0) * D, BN, s.Tk - k0);
  load_rows<T, D>(Vs, L::ld, v + ((long long)bkv * s.Tk + k0) * D, BN, s.Tk - k0);
  float dk_acc[RM][RO], dv_acc[RM][RO];
  zero(dk_acc);
  zero(dv_acc);
  // Causal: query i sees key j when j <= i + Tk - Tq, so this key tile's first reader is
  // query k0 - (Tk - Tq); earlier query tiles see none of its keys.
  int q_begin = 0;
  if (s.causal) q_begin = max(0, k0 - (s.Tk - s.Tq)) / BM * BM;

  for (int g = 0; g < group; ++g) {
    const int h = kvh * group + g;
    const long long bh = (long long)b * s.Hq + h;
    for (int q0 = q_begin; q0 < s.Tq; q0 += BM) {
      __syncthreads();  // the previous tile's Q, dO, P, dS are no longer read
      load_rows<T, D>(Qs, L::ld, q + (bh * s.Tq + q0) * D, BM, s.Tq - q0);
      load_rows<T, D>(dOs, L::ld, dout + (bh * s.Tq + q0) * D, BM, s.Tq - q0);
      if (tid < BM) {
        bool in = q0 + tid < s.Tq;
        lse_s[tid] = in ? lse[bh * s.Tq + q0 + tid] : neg_inf();
        delta_s[tid] = in ? delta[bh * s.Tq + q0 + tid] : 0.0f;
      }
      __syncthreads();
      float st[RM][RT], dpt[RM][RT];
      zero(st);
      zero(dpt);
      tile_abt<BN, BM, D>(st, Ks, L::ld, Qs, L::ld, rg, cg);
      tile_abt<BN, BM, D>(dpt, Vs, L::ld, dOs, L::ld, rg, cg);
#pragma unroll
      for (int i = 0; i < RM; ++i)
#pragma unroll
        for (int j = 0; j < RT; ++j) {
          int kr = rg * RM + i, qc = cg + kColGroups * j;
          float p = recompute_p(st[i][j], s.scale, lse_s[qc], attends(s, b, q0 + qc, k0 + kr));
          Pt[kr * L::ldt + qc] = p;
          dSt[kr * L::ldt + qc] = p * (dpt[i][j] - delta_s[qc]);
        }
      __syncthreads();
      tile_ab<BN, D, BM>(dv_acc, Pt, L::ldt, dOs, L::ld, rg, cg);
      tile_ab<BN, D, BM>(dk_acc, dSt, L::ldt, Qs, L::ld, rg, cg);
    }
  }
#pragma unroll
  for (int i = 0; i < RM; ++i) {
    int kr = rg * RM + i;
    if (k0 + kr < s.Tk) {
      long long base = ((long long)bkv * s.Tk + k0 + kr) * D;
#pragma unroll
      for (int j = 0; j < RO; ++j) {
        dk[base + cg + kColGroups * j] = from_float<T>(dk_acc[i][j] * s.scale);
        dv[base + cg + kColGroups * j] = from_float<T>(dv_acc[i][j]);
      }
    }
  }
}

template <int D, int BM, int BN>
struct DqSmem {
  static constexpr int ld = D + 1, lds = BN + 1;
  static constexpr int floats = 2 * BM * ld + 2 * BN * ld + BM * lds + 2 * BM;
  static constexpr int bytes = floats * 4;
};

template <class T, int D, int BM, int BN>
__device__ void attention_backward_dq(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                                      const T* __restrict__ dout, const float* __restrict__ lse,
                                      const float* __restrict__ delta, T* __restrict__ dq, AttnShape s) {
  using L = DqSmem<D, BM, BN>;
  constexpr int RM = BM / kRowGroups, RS = BN / kColGroups, RO = D / kColGroups;
  CK_CHECK_DYNAMIC_SHARED(L::bytes, "attention backward dQ");
  CK_EMULATOR_EXPECT(gridDim.x == (unsigned)((s.Tq + BM - 1) / BM), "attention dQ: grid.x != ceil(Tq / BM)");
  CK_DYNAMIC_SHARED(float, smem);
  float* Qs = smem;
  float* dOs = Qs + BM * L::ld;
  float* Ks = dOs + BM * L::ld;
  float* Vs = Ks + BN * L::ld;
  float* dSs = Vs + BN * L::ld;
  float* lse_s = dSs + BM * L::lds;
  float* delta_s = lse_s + BM;

  const int tid = threadIdx.x, rg = tid / kColGroups, cg = tid % kColGroups;
  const int bh = blockIdx.y, b = bh / s.Hq, h = bh % s.Hq, kvh = h / (s.Hq / s.Hkv);
  const int q0 = blockIdx.x * BM;
  const long long row0 = (long long)bh * s.Tq + q0;
  load_rows<T, D>(Qs, L::ld, q + row0 * D, BM, s.Tq - q0);
  load_rows<T, D>(dOs, L::ld, dout + row0 * D, BM, s.Tq - q0);
  if (tid < BM) {
    bool in = q0 + tid < s.Tq;
    lse_s[tid] = in ? lse[row0 + tid] : neg_inf();
    delta_s[tid] = in ? delta[row0 + tid] : 0.0f;
  }
  const T* kb = k + (long long)(b * s.Hkv + kvh) * s.Tk * D;
  const T* vb = v + (long long)(b * s.Hkv + kvh) * s.Tk * D;
  float dq_acc[RM][RO];
  zero(dq_acc);
  int kv_end = s.Tk;
  if (s.causal) kv_end = min(s.Tk, q0 + BM + (s.Tk - s.Tq));

  for (int k0 = 0; k0 < kv_end; k0 += BN) {
    __syncthreads();
    load_rows<T, D>(Ks, L::ld, kb + (long long)k0 * D, BN, s.Tk - k0);
    load_rows<T, D>(Vs, L::ld, vb + (long long)k0 * D, BN, s.Tk - k0);
    __syncthreads();
    float sc[RM][RS], dp[RM][RS];
    zero(sc);
    zero(dp);
    tile_abt<BM, BN, D>(sc, Qs, L::ld, Ks, L::ld, rg, cg);
    tile_abt<BM, BN, D>(dp, dOs, L::ld, Vs, L::ld, rg, cg);
#pragma unroll
    for (int i = 0; i < RM; ++i)
#pragma unroll
      for (int j = 0; j < RS; ++j) {
        int r = rg * RM + i, c = cg + kColGroups * j;
        float p = recompute_p(sc[i][j], s.scale, lse_s[r], attends(s, b, q0 + r, k0 + c));
        dSs[r * L::lds + c] = p * (dp[i][j] - delta_s[r]);
      }
    __syncthreads();
    tile_ab<BM, D, BN>(dq_acc, dSs, L::lds, Ks, L::ld, rg, cg);
  }
#pragma unroll
  for (int i = 0; i < RM; ++i) {
    int r = rg * RM + i;
    if (q0 + r < s.Tq) {
#pragma unroll
      for (int j = 0; j < RO; ++j) dq[(row0 + r) * D + cg + kColGroups * j] = from_float<T>(dq_acc[i][j] * s.scale);
    }
  }
}

}  // namespace ck

// Tile sizes (BM query rows, BN key rows) per head dim; gpu/attention.py mirrors this table.
#define CK_FWD_TILES_32 64, 64
#define CK_FWD_TILES_64 64, 64
#define CK_FWD_TILES_128 64, 32
#define CK_DKDV_TILES_32 64, 64
#define CK_DKDV_TILES_64 64, 64
#define CK_DKDV_TILES_128 64, 32
#define CK_DQ_TILES_32 64, 64
#define CK_DQ_TILES_64 64, 64
#define CK_DQ_TILES_128 32, 64

#define CK_ATTN_ARGS                                                                                  \
  const unsigned char *key_mask, int has_mask, const int *segments, int has_segments, int B, int Hq, int Hkv,   \
      int Tq, int Tk, float scale, int causal
#define CK_ATTN_SHAPE ck::AttnShape{B, Hq, Hkv, Tq, Tk, scale, causal, key_mask, has_mask, segments, has_segments}

#define CK_ATTENTION(D, suffix, T)                                                                     \
  extern "C" __global__ void __launch_bounds__(128, 1)                                                    \
      attn_fwd_d##D##_##suffix(const T* q, const T* k, const T* v, T* o, float* lse, CK_ATTN_ARGS) {  \
    ck::attention_forward<T, D, CK_FWD_TILES_##D>(q, k, v, o, lse, CK_ATTN_SHAPE);                     \
  }                                                                                                    \
  extern "C" __global__ void __launch_bounds__(128, 1) attn_bwd_dkdv_d##D##_##suffix(                     \
      const T* q, const T* k, const T* v, const T* dout, const float* lse, const float* delta, T* dk,  \
      T* dv, CK_ATTN_ARGS) {                                                                           \
    ck::attention_backward_dkdv<T, D, CK_DKDV_TILES_##D>(q, k, v, dout, lse, delta, dk, dv, CK_ATTN_SHAPE); \
  }                                                                                                    \
  extern "C" __global__ void __launch_bounds__(128, 1) attn_bwd_dq_d##D##_##suffix(                       \
      const T* q, const T* k, const T* v, const T* dout, const float* lse, const float* delta, T* dq,  \
      CK_ATTN_ARGS) {                                                                                  \
    ck::attention_backward_dq<T, D, CK_DQ_TILES_##D>(q, k, v, dout, lse, delta, dq, CK_ATTN_SHAPE);    \
  }

#define CK_ATTENTION_PRE(suffix, T)                                                                    \
  extern "C" __global__ void __launch_bounds__(128, 1)                                                    \
      attn_bwd_pre_##suffix(const T* o, const T* dout, float* delta, int rows, int D) {                \
    ck::attention_backward_pre<T>(o, dout, delta, rows, D);                                            \
  }

CK_ATTENTION(32, f32, float)
CK_ATTENTION(64, f32, float)
CK_ATTENTION(128, f32, float)
CK_ATTENTION(32, bf16, ck::bf16)
CK_ATTENTION(64, bf16, ck::bf16)
CK_ATTENTION(128, bf16, ck::bf16)
CK_ATTENTION_PRE(f32, float)
CK_ATTENTION_PRE(bf16, ck::bf16)
