// Fused Llama 4 MoE (moe_cuda.h): routing/sort kernel, combine kernel, and the host function
// that chains router GEMV -> route -> grouped gate/up (SwiGLU) -> grouped down -> shared
// expert -> combine.
#include <cuda_runtime.h>

#include <string>

#include "engine/kernels/cuda/cuda_util.cuh"
#include "engine/kernels/cuda/moe_cuda.h"
#include "engine/kernels/cuda/matmul_kernels.cuh"

namespace scout::cuda {

using detail::as_stream;
using detail::check;
using detail::check_launch;

namespace {

constexpr int kRouteThreads = 1024;

// One block. Thread per token: top-k and routing weights. Warp per expert: counts, then (after
// thread 0 lays out the padded groups) the stable placement of its entries, 32 at a time with
// a ballot; the result equals hd::moe_place_expert's sequential placement.
__global__ void __launch_bounds__(kRouteThreads)
    route_kernel(const float* logits, int32_t n, int32_t n_expert, int32_t k, int32_t align, uint8_t* entry_expert,
                 float* entry_weight, int32_t* group_begin, int32_t* row_src, float* row_scale, int32_t* row_dst,
                 int32_t* row_id, int32_t capacity) {
  __shared__ int32_t counts[256];
  __shared__ int32_t begin[257];
  const int tid = int(threadIdx.x), lane = tid % 32, warp = tid / 32, n_warps = kRouteThreads / 32;

  for (int32_t t = tid; t < n; t += kRouteThreads) {
    const float* row = logits + int64_t(t) * n_expert;
    int idx[hd::kMaxTopK];
    hd::top_k(row, n_expert, k, idx);
    for (int s = 0; s < k; ++s) {
      entry_expert[t * k + s] = uint8_t(idx[s]);
      entry_weight[t * k + s] = hd::sigmoid(row[idx[s]]);
    }
  }
  __syncthreads();  // global writes of this block are visible to it after the barrier

  const int32_t n_entries = n * k;
  for (int e = warp; e < n_expert; e += n_warps) {
    int32_t c = 0;
    for (int32_t i0 = 0; i0 < n_entries; i0 += 32) {
      const int32_t i = i0 + lane;
      const bool match = i < n_entries && entry_expert[i] == e;
      c += __popc(__ballot_sync(0xffffffffu, match));
    }
    if (lane == 0) counts[e] = c;
  }
  __syncthreads();
  if (tid == 0) hd::moe_offsets(counts, n_expert, align, begin);
  __syncthreads();
  for (int e = tid; e <= n_expert; e += kRouteThreads) group_begin[e] = begin[e];

  for (int e = warp; e < n_expert; e += n_warps) {
    int32_t r = begin[e];
    for (int32_t i0 = 0; i0 < n_entries; i0 += 32) {
      const int32_t i = i0 + lane;
      const bool match = i < n_entries && entry_expert[i] == e;
      const unsigned mask = __ballot_sync(0xffffffffu, match);
      if (match) {
        const int32_t row = r + __popc(mask & ((1u << lane) - 1u));
        const int32_t t = i / k, slot = i % k;
        row_src[row] = t;
        row_scale[row] = entry_weight[i];
        row_dst[row] = t * (k + 1) + slot;
        row_id[row] = row;
      }
      r += __popc(mask);
    }
    for (int32_t row = r + lane; row < begin[e + 1]; row += 32) {
      row_src[row] = -1;
      row_scale[row] = 0.0f;
      row_dst[row] = -1;
      row_id[row] = -1;
    }
  }
  // Rows past the last group (up to the capacity the GEMM grid covers) are padding too.
  for (int32_t row = begin[n_expert] + tid; row < capacity; row += kRouteThreads) {
    row_src[row] = -1;
    row_scale[row] = 0.0f;
    row_dst[row] = -1;
    row_id[row] = -1;
  }
}

// out[t] (+)= ((slot 0 + slot 1 + ...) + shared), model::llama4_moe's order of additions.
__global__ void combine_kernel(const float* slots, int32_t n, int32_t k, int64_t d, bool shared, bool accumulate,
                               float* out) {
  const int64_t total = int64_t(n) * d;
  for (int64_t q = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; q < total; q += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = q / d, c = q % d;
    const float* s = slots + t * (k + 1) * d + c;
    float v = s[0];
    for (int j = 1; j < k; ++j) v = hd::fadd(v, s[j * d]);
    if (shared) v = hd::fadd(v, s[k * d]);
    out[q] = accumulate ? hd::fadd(out[q], v) : v;
  }
}

template <class T>
void alloc(T*& p, int64_t n) {
  check(cudaMalloc(reinterpret_cast<void**>(&p), size_t(n > 0 ? n : 1) * sizeof(T)), "MoeWorkspace: cudaMalloc");
}

void check_workspace(const MoeShape& s, const MoeWorkspace& ws, int64_t n, const char* what) {
  const MoeShape& w = ws.shape();
  if (w.n_embd != s.n_embd || w.n_ff != s.n_ff || w.n_expert != s.n_expert || w.n_expert_used != s.n_expert_used)
    throw Error(std::string(what) + ": the workspace was made for another shape");
  if (n > ws.max_tokens()) throw Error(std::string(what) + ": more tokens than the workspace holds");
}

void check_shape(const MoeShape& s) {
  if (s.n_embd <= 0 || s.n_ff <= 0 || s.n_expert <= 0 || s.n_expert > 256 || s.n_expert_used <= 0 ||
      s.n_expert_used > hd::kMaxTopK || s.n_expert_used > s.n_expert)
    throw Error("MoE: unsupported shape (need 1 <= k <= 8, k <= E <= 256)");
  if (s.n_embd % 8 != 0 || s.n_ff % 8 != 0) throw Error("MoE: n_embd and n_ff must be multiples of 8");
}

}  // namespace

MoeWorkspace::MoeWorkspace(const MoeShape& shape, int64_t max_tokens) : shape_(shape), max_tokens_(max_tokens) {
  check_shape(shape);
  if (max_tokens <= 0) throw Error("MoeWorkspace: max_tokens must be positive");
  const int64_t n = max_tokens, k = shape.n_expert_used, E = shape.n_expert;
  capacity_ = hd::moe_rows_capacity(n * k, E, kGemmRowAlign);
  if (capacity_ > 0x7fffffff / 2) throw Error("MoeWorkspace: too many tokens");
  alloc(logits, n * E);
  alloc(entry_expert, n * k);
  alloc(entry_weight, n * k);
  alloc(group_begin, E + 1);
  alloc(row_src, capacity_);
  alloc(row_scale, capacity_);
  alloc(row_dst, capacity_);
  alloc(row_id, capacity_);
  alloc(act, capacity_ * shape.n_ff);
  alloc(act_shared, n * shape.n_ff);
  alloc(slots, n * (k + 1) * shape.n_embd);
}

MoeWorkspace::~MoeWorkspace() {
  for (void* p : {static_cast<void*>(logits), static_cast<void*>(entry_expert), static_cast<void*>(entry_weight),
                  static_cast<void*>(group_begin), static_cast<void*>(row_src), static_cast<void*>(row_scale),
                  static_cast<void*>(row_dst), static_cast<void*>(row_id), static_cast<void*>(act),
                  static_cast<void*>(act_up), static_cast<void*>(act_shared), static_cast<void*>(slots)})
    if (p) cudaFree(p);
}

void moe_route(const float* d_logits, int64_t n, const MoeShape& shape, int32_t align, MoeWorkspace& ws,
               void* stream) {
  check_shape(shape);
  if (n <= 0) return;
  check_workspace(shape, ws, n, "moe_route");
  if (align < 1 || align > kGemmRowAlign) throw Error("moe_route: align must be 1.." + std::to_string(kGemmRowAlign));
  route_kernel<<<1, kRouteThreads, 0, as_stream(stream)>>>(
      d_logits, int32_t(n), int32_t(shape.n_expert), int32_t(shape.n_expert_used), align, ws.entry_expert,
      ws.entry_weight, ws.group_begin, ws.row_src, ws.row_scale, ws.row_dst, ws.row_id, int32_t(ws.row_capacity()));
  check_launch("moe_route");
}

void moe_forward(const MoeWeights& w, const MoeShape& s, const float* d_h, int64_t n, float* d_out, bool accumulate,
                 MoeWorkspace& ws, void* stream, MatmulKernel kernel) {
  check_shape(s);
  if (n <= 0) return;
  check_workspace(s, ws, n, "moe_forward");
  const int64_t d = s.n_embd, f = s.n_ff, E = s.n_expert, k = s.n_expert_used;
  auto expect = [](const DeviceMatrix& m, int64_t cols, int64_t rows, const char* name) {
    if (m.n_cols != cols || m.n_rows != rows)
      throw Error(std::string("moe_forward: ") + name + " has the wrong shape");
  };
  expect(w.router, d, E, "router");
  expect(w.gate_exps, d, E * f, "gate_exps");
  expect(w.up_exps, d, E * f, "up_exps");
  expect(w.down_exps, f, E * d, "down_exps");
  const bool shared = w.gate_shexp.data != nullptr;
  if (shared) {
    expect(w.gate_shexp, d, f, "gate_shexp");
    expect(w.up_shexp, d, f, "up_shexp");
    expect(w.down_shexp, f, d, "down_shexp");
  }

  // GEMV for decode batches (and for types the tensor-core GEMM does not read).
  auto pick = [&](MatmulKernel want, int64_t rows, quant::GgmlType t) {
    if (want == MatmulKernel::Auto) want = rows <= hd::kGemvTokens ? MatmulKernel::Gemv : MatmulKernel::Gemm;
    if (t == quant::GgmlType::F32) want = MatmulKernel::Gemv;
    return want;
  };
  const MatmulKernel routed = pick(kernel, n * k, w.gate_exps.type) == MatmulKernel::Gemm &&
                                      pick(kernel, n * k, w.down_exps.type) == MatmulKernel::Gemm
                                  ? MatmulKernel::Gemm
                                  : MatmulKernel::Gemv;
  const int32_t align = routed == MatmulKernel::Gemm ? kGemmRowAlign : 1;

  matmul(w.router, d_h, n, ws.logits, stream, MatmulKernel::Gemv);
  moe_route(ws.logits, n, s, align, ws, stream);

  RowMap rows;
  rows.group_begin = ws.group_begin;
  rows.n_groups = int32_t(E);
  rows.m = int32_t(ws.row_capacity());
  rows.max_group_rows = int32_t(n);  // a token picks an expert at most once
  rows.max_active_groups = int32_t(std::min<int64_t>(E, n * k));
  rows.src = ws.row_src;
  rows.scale = ws.row_scale;
  const GroupedMatrix gate{w.gate_exps.rows(0, f), uint64_t(f) * w.gate_exps.row_bytes};
  const GroupedMatrix up{w.up_exps.rows(0, f), uint64_t(f) * w.up_exps.row_bytes};
  if (w.gate_exps.type == w.up_exps.type) {
    grouped_swiglu(gate, up, rows, d_h, d, ws.act, f, routed, stream);
  } else {
    if (!ws.act_up) alloc(ws.act_up, ws.row_capacity() * f);
    grouped_matmul(gate, rows, d_h, d, ws.act, f, routed, stream);
    grouped_matmul(up, rows, d_h, d, ws.act_up, f, routed, stream);
    swiglu_elementwise(ws.act, ws.act_up, ws.act, ws.row_capacity() * f, stream);
  }

  RowMap down_rows = rows;
  down_rows.src = ws.row_id;  // act rows by sorted index; padding skipped
  down_rows.scale = nullptr;
  down_rows.dst = ws.row_dst;
  const GroupedMatrix down{w.down_exps.rows(0, d), uint64_t(d) * w.down_exps.row_bytes};
  grouped_matmul(down, down_rows, ws.act, f, ws.slots, d, routed, stream);

  if (shared) {
    RowMap all;
    all.m = int32_t(n);
    const MatmulKernel sk = pick(kernel, n, w.gate_shexp.type);
    if (w.gate_shexp.type == w.up_shexp.type) {
      grouped_swiglu(GroupedMatrix{w.gate_shexp, 0}, GroupedMatrix{w.up_shexp, 0}, all, d_h, d, ws.act_shared, f, sk,
                     stream);
    } else {
      if (!ws.act_up) alloc(ws.act_up, ws.row_capacity() * f);
      grouped_matmul(GroupedMatrix{w.gate_shexp, 0}, all, d_h, d, ws.act_shared, f, sk, stream);
      grouped_matmul(GroupedMatrix{w.up_shexp, 0}, all, d_h, d, ws.act_up, f, sk, stream);
      swiglu_elementwise(ws.act_shared, ws.act_up, ws.act_shared, n * f, stream);
    }
    grouped_matmul(GroupedMatrix{w.down_shexp, 0}, all, ws.act_shared, f, ws.slots + k * d, (k + 1) * d,
                   pick(kernel, n, w.down_shexp.type), stream);
  }

  const int64_t total = n * d;
  combine_kernel<<<unsigned(std::min<int64_t>((total + 255) / 256, 4096)), 256, 0, as_stream(stream)>>>(
      ws.slots, int32_t(n), int32_t(k), d, shared, accumulate, d_out);
  check_launch("moe combine");
}

}  // namespace scout::cuda
