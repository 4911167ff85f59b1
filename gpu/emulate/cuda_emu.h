// cuda_emu.h: the CUDA execution model our kernels use, for g++ (C++20) on the CPU.
//
// A launch runs each block with one std::thread per CUDA thread; __syncthreads() is a
// std::barrier over the block's threads; blocks run one after another (in launch order, or
// shuffled by a seed), so __shared__ variables are plain static storage. Warp shuffles and
// votes go through a per-warp exchange buffer guarded by a per-warp barrier; atomics use
// std::atomic_ref. bf16/fp16 types come from the CUDA toolkit's own headers, which compile
// on the host. Not modelled: timing, memory coalescing, warp scheduling, independent
// scheduling inside a warp, and races between blocks (see the shuffled-order check).
//
// The kernel file is included below this header by a generated translation unit that adds one
// C entry point per kernel: `int emu_launch_<name>(const EmuLaunch*, void** args)`.
#pragma once

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#define CORPUSKIT_EMULATE 1
// The toolkit's host_defines.h gives these CUDA attributes; on the CPU they mean nothing.
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __shared__
#undef __launch_bounds__
#undef __align__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

struct EmuLaunch {
  unsigned grid[3];
  unsigned block[3];
  unsigned long long shared_bytes;
  unsigned long long seed;  // 0: blocks in launch order; otherwise a shuffled order
};

namespace emu {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

struct Warp {
  explicit Warp(std::ptrdiff_t n) : size(unsigned(n)), bar(std::make_unique<std::barrier<>>(n)) {}
  unsigned size;
  std::unique_ptr<std::barrier<>> bar;  // renewed every block, like Block::sync
  unsigned long long slot[32] = {};
  unsigned mma_a[32][4] = {};  // each lane's tensor-core fragments, for the CPU twins
  unsigned mma_b[32][2] = {};
};

struct Block {
  explicit Block(std::ptrdiff_t n) : threads(n), end(n) {}
  std::ptrdiff_t threads;
  // __syncthreads(): made afresh for every block, and a thread that finishes the kernel drops
  // out of it, so a thread that exits early never leaves the others waiting.
  std::unique_ptr<std::barrier<>> sync;
  std::barrier<> end;  // the block's end: every thread has finished the kernel body
  std::vector<std::unique_ptr<Warp>> warps;
  unsigned char* dynamic_shared = nullptr;
  unsigned long long dynamic_bytes = 0;
  std::mutex error_lock;
  std::string error;

  void fail(const std::string& message) {
    std::lock_guard<std::mutex> guard(error_lock);
    if (error.empty()) error = message;
  }
};

struct ThreadState {
  Dim3 thread_idx, block_idx, block_dim, grid_dim;
  Block* block = nullptr;
  Warp* warp = nullptr;
  unsigned lane = 0;
  unsigned long long barriers = 0;  // __syncthreads() calls in the current block
};

inline thread_local ThreadState state;

// A report of the last launch's error, read by the Python loader through emu_last_error().
inline std::string& last_error() {
  static std::string message;
  return message;
}

}  // namespace emu

#define threadIdx (::emu::state.thread_idx)
#define blockIdx (::emu::state.block_idx)
#define blockDim (::emu::state.block_dim)
#define gridDim (::emu::state.grid_dim)
#define warpSize 32

inline void __syncthreads() {
  ++emu::state.barriers;
  emu::state.block->sync->arrive_and_wait();
}

inline void __syncwarp(unsigned = 0xffffffffu) { emu::state.warp->bar->arrive_and_wait(); }

namespace emu {

inline void check_mask(unsigned mask, const char* what) {
  unsigned n = state.warp->size;
  unsigned full = n == 32 ? 0xffffffffu : ((1u << n) - 1u);
  if ((mask & full) != full) {
    state.block->fail(std::string(what) + ": the emulator supports only masks naming every active lane");
  }
}

// Every lane publishes `value`, then reads lane `source`'s; two warp barriers keep the
// exchange slot from being overwritten before every lane has read it.
template <class T>
T exchange(T value, unsigned source) {
  static_assert(sizeof(T) <= sizeof(unsigned long long), "shuffle of a type wider than 64 bits");
  Warp* w = state.warp;
  unsigned long long bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  w->slot[state.lane] = bits;
  w->bar->arrive_and_wait();
  T out = value;
  if (source < w->size) std::memcpy(&out, &w->slot[source], sizeof(T));
  w->bar->arrive_and_wait();
  return out;
}

}  // namespace emu

template <class T>
T __shfl_sync(unsigned mask, T value, int source, int width = 32) {
  emu::check_mask(mask, "__shfl_sync");
  unsigned lane = emu::state.lane;
  unsigned base = lane - lane % unsigned(width);
  return emu::exchange(value, base + unsigned(source) % unsigned(width));
}

template <class T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = 32) {
  emu::check_mask(mask, "__shfl_xor_sync");
  unsigned lane = emu::state.lane;
  unsigned source = lane ^ unsigned(lane_mask);
  // Outside the caller's segment of `width` lanes, a lane keeps its own value (PTX shfl.bfly).
  if (source / unsigned(width) != lane / unsigned(width)) source = lane;
  return emu::exchange(value, source);
}

template <class T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  emu::check_mask(mask, "__shfl_down_sync");
  unsigned lane = emu::state.lane;
  unsigned source = lane + delta;
  if (source / unsigned(width) != lane / unsigned(width)) source = lane;
  return emu::exchange(value, source);
}

template <class T>
T __shfl_up_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  emu::check_mask(mask, "__shfl_up_sync");
  unsigned lane = emu::state.lane;
  unsigned source = lane % unsigned(width) >= delta ? lane - delta : lane;
  return emu::exchange(value, source);
}

inline unsigned __ballot_sync(unsigned mask, int predicate) {
  emu::check_mask(mask, "__ballot_sync");
  emu::Warp* w = emu::state.warp;
  w->slot[emu::state.lane] = predicate ? 1u : 0u;
  w->bar->arrive_and_wait();
  unsigned bits = 0;
  for (unsigned i = 0; i < w->size; ++i) bits |= unsigned(w->slot[i] != 0) << i;
  w->bar->arrive_and_wait();
  return bits;
}

inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }

inline int __all_sync(unsigned mask, int predicate) {
  unsigned n = emu::state.warp->size;
  unsigned full = n == 32 ? 0xffffffffu : ((1u << n) - 1u);
  return __ballot_sync(mask, predicate) == full;
}

template <class T>
T atomicAdd(T* address, T value) {
  return std::atomic_ref<T>(*address).fetch_add(value);
}

template <class T>
T atomicMax(T* address, T value) {
  std::atomic_ref<T> ref(*address);
  T old = ref.load();
  while (old < value && !ref.compare_exchange_weak(old, value)) {
  }
  return old;
}

// CUDA's integer min/max overloads (device functions in the global namespace).
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }

inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline int __float_as_int(float x) { int i; std::memcpy(&i, &x, 4); return i; }
inline float __int_as_float(int i) { float x; std::memcpy(&x, &i, 4); return x; }
inline unsigned __float_as_uint(float x) { unsigned i; std::memcpy(&i, &x, 4); return i; }
inline float __uint_as_float(unsigned i) { float x; std::memcpy(&x, &i, 4); return x; }

namespace emu {

inline float bf16_bits_to_float(unsigned bits) { return __uint_as_float((bits & 0xffffu) << 16); }

// CPU twin of mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 (see ck::mma_m16n8k16_bf16 in
// common.cuh for the fragment layout, the PTX ISA's): every lane publishes its fragments, every
// lane rebuilds A (16x16) and B (16x8) and computes its own four elements of D, in fp32, k in order.
inline void mma_m16n8k16_bf16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
  Warp* w = state.warp;
  if (w->size != 32) state.block->fail("mma_m16n8k16_bf16: needs a full warp of 32 threads");
  const unsigned lane = state.lane;
  for (int r = 0; r < 4; ++r) w->mma_a[lane][r] = a[r];
  for (int r = 0; r < 2; ++r) w->mma_b[lane][r] = b[r];
  w->bar->arrive_and_wait();
  float A[16][16], B[16][8];
  for (unsigned l = 0; l < 32; ++l) {
    const unsigned g = l / 4, t = l % 4;
    for (unsigned r = 0; r < 4; ++r) {
      const unsigned row = g + 8 * (r & 1), col = 2 * t + 8 * (r >> 1), bits = w->mma_a[l][r];
      A[row][col] = bf16_bits_to_float(bits);
      A[row][col + 1] = bf16_bits_to_float(bits >> 16);
    }
    for (unsigned r = 0; r < 2; ++r) {
      const unsigned k = 2 * t + 8 * r, bits = w->mma_b[l][r];
      B[k][g] = bf16_bits_to_float(bits);
      B[k + 1][g] = bf16_bits_to_float(bits >> 16);
    }
  }
  w->bar->arrive_and_wait();
  const unsigned g = lane / 4, t = lane % 4;
  for (unsigned i = 0; i < 4; ++i) {
    const unsigned row = g + 8 * (i >> 1), col = 2 * t + (i & 1);
    float acc = d[i];
    for (unsigned k = 0; k < 16; ++k) acc = std::fma(A[row][k], B[k][col], acc);
    d[i] = acc;
  }
}

// The launch's dynamic shared memory (`extern __shared__` on the GPU). The buffer is at least
// 64 KiB larger than requested, so a kernel that overruns its declared size is reported by
// the size check below rather than corrupting the heap.
inline unsigned char* dynamic_shared() { return state.block->dynamic_shared; }

inline void check_dynamic_shared(unsigned long long needed, const char* kernel) {
  if (state.block->dynamic_bytes < needed) {
    state.block->fail(std::string(kernel) + ": needs " + std::to_string(needed) +
                      " bytes of dynamic shared memory, launched with " +
                      std::to_string(state.block->dynamic_bytes));
  }
}

inline std::vector<unsigned> block_order(unsigned count, unsigned long long seed) {
  std::vector<unsigned> order(count);
  std::iota(order.begin(), order.end(), 0u);
  if (seed != 0) {
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
  }
  return order;
}

// Runs `body()` as every thread of every block. Returns 0, or 1 with last_error() set.
template <class Body>
int run_grid(const EmuLaunch* cfg, const char* name, Body body) {
  last_error().clear();
  Dim3 grid{cfg->grid[0], cfg->grid[1], cfg->grid[2]};
  Dim3 dim{cfg->block[0], cfg->block[1], cfg->block[2]};
  unsigned nthreads = dim.x * dim.y * dim.z;
  unsigned nblocks = grid.x * grid.y * grid.z;
  if (nthreads == 0 || nthreads > 1024 || nblocks == 0) {
    last_error() = std::string(name) + ": bad launch configuration";
    return 1;
  }
  Block block(nthreads);
  block.sync = std::make_unique<std::barrier<>>(nthreads);
  for (unsigned w = 0; w < (nthreads + 31) / 32; ++w) {
    unsigned n = std::min(32u, nthreads - 32 * w);
    block.warps.push_back(std::make_unique<Warp>(n));
  }
  std::vector<unsigned char> shared(cfg->shared_bytes + 65536, 0xff);  // NaN-filled
  block.dynamic_shared = shared.data();
  block.dynamic_bytes = cfg->shared_bytes;
  std::vector<unsigned> order = block_order(nblocks, cfg->seed);
  std::vector<unsigned long long> barrier_counts(nthreads, 0);

  auto worker = [&](unsigned tid) {
    state = ThreadState{};
    state.thread_idx = Dim3{tid % dim.x, (tid / dim.x) % dim.y, tid / (dim.x * dim.y)};
    state.block_dim = dim;
    state.grid_dim = grid;
    state.block = &block;
    state.warp = block.warps[tid / 32].get();
    state.lane = tid % 32;
    for (unsigned b : order) {
      state.block_idx = Dim3{b % grid.x, (b / grid.x) % grid.y, b / (grid.x * grid.y)};
      state.barriers = 0;
      body();
      barrier_counts[tid] = state.barriers;
      block.sync->arrive_and_drop();
      state.warp->bar->arrive_and_drop();
      block.end.arrive_and_wait();  // every thread has finished this block
      if (tid == 0) {
        for (unsigned t = 1; t < nthreads; ++t) {
          if (barrier_counts[t] != barrier_counts[0]) {
            block.fail(std::string(name) + ": threads of one block reached different numbers of __syncthreads()");
            break;
          }
        }
        block.sync = std::make_unique<std::barrier<>>(block.threads);
        for (auto& w : block.warps) w->bar = std::make_unique<std::barrier<>>(w->size);
      }
      block.end.arrive_and_wait();  // the next block starts with a full barrier
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(nthreads);
  for (unsigned t = 0; t < nthreads; ++t) threads.emplace_back(worker, t);
  for (auto& t : threads) t.join();
  if (!block.error.empty()) {
    last_error() = block.error;
    return 1;
  }
  return 0;
}

template <class... Args, std::size_t... I>
void call_unpacked(void (*kernel)(Args...), void** args, std::index_sequence<I...>) {
  kernel(*static_cast<std::remove_reference_t<Args>*>(args[I])...);
}

template <class... Args>
int launch(void (*kernel)(Args...), const char* name, const EmuLaunch* cfg, void** args) {
  return run_grid(cfg, name, [&] { call_unpacked(kernel, args, std::index_sequence_for<Args...>{}); });
}

}  // namespace emu

extern "C" const char* emu_last_error() { return emu::last_error().c_str(); }
