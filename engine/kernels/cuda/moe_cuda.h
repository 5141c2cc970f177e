#pragma once
// Fused Llama 4 MoE block (CUDA). Oracle: model::llama4_moe (engine/model/arch_llama4.cpp).
//
//   logits = router . h                        (GEMV, F32 accumulation: routing is exact-ish)
//   per token: top-k experts by RAW logit (ties to the lower index), weight = sigmoid(logit)
//   sort: entries grouped by expert, each group padded to the GEMM tile height
//   act   = silu(gate_e (w h)) * up_e (w h)    (grouped GEMM/GEMV; router weight scales the
//                                              INPUT on load, SwiGLU in the epilogue)
//   slot  = down_e . act                       (grouped; scattered to the token's slot row)
//   shared expert on the unweighted h          (same kernels, into the token's last slot)
//   out (+)= ((slot 0 + slot 1 + ...) + shared)  in model::llama4_moe's order
//
// Decode batches (n_tokens * k <= 8) run the GEMV kernels, prefill the tensor-core GEMM.
// All pointers are device pointers; calls are asynchronous on `stream`.
#include <cstdint>

#include "engine/kernels/cuda/matmul_cuda.h"

namespace scout::cuda {

struct MoeShape {
  int64_t n_embd = 0;         // d
  int64_t n_ff = 0;           // expert (and shared expert) FFN width f
  int64_t n_expert = 0;       // E (<= 256)
  int64_t n_expert_used = 0;  // k (<= 8)
};

// Weights as stored in the GGUF (ffn_*_exps are 3-D: experts stacked along the rows).
struct MoeWeights {
  DeviceMatrix router;                       // [E rows x d]
  DeviceMatrix gate_exps, up_exps;           // [E * f rows x d]
  DeviceMatrix down_exps;                    // [E * d rows x f]
  DeviceMatrix gate_shexp, up_shexp, down_shexp;  // [f x d], [f x d], [d x f]; data null: no shared expert
};

// Device scratch for up to max_tokens tokens per call.
class MoeWorkspace {
 public:
  MoeWorkspace(const MoeShape& shape, int64_t max_tokens);
  ~MoeWorkspace();
  MoeWorkspace(const MoeWorkspace&) = delete;
  MoeWorkspace& operator=(const MoeWorkspace&) = delete;

  const MoeShape& shape() const { return shape_; }
  int64_t max_tokens() const { return max_tokens_; }
  int64_t row_capacity() const { return capacity_; }  // sorted rows incl. GEMM padding

  // Routing results (valid after moe_route / moe_forward), for tests and inspection.
  float* logits = nullptr;          // [n x E]
  uint8_t* entry_expert = nullptr;  // [n * k]: expert of entry t * k + slot
  float* entry_weight = nullptr;    // [n * k]: sigmoid of its logit
  int32_t* group_begin = nullptr;   // [E + 1]: sorted rows of expert e
  int32_t* row_src = nullptr;       // [capacity]: token of sorted row i, -1 for padding
  float* row_scale = nullptr;       // [capacity]: routing weight
  int32_t* row_dst = nullptr;       // [capacity]: slot row t * (k + 1) + slot, -1 for padding
  int32_t* row_id = nullptr;        // [capacity]: i, or -1 for padding
  float* act = nullptr;             // [capacity x f]: SwiGLU outputs of the routed experts
  float* act_up = nullptr;          // [capacity x f]: up outputs when gate/up types differ (lazy)
  float* act_shared = nullptr;      // [n x f]
  float* slots = nullptr;           // [n x (k + 1) x d]

 private:
  MoeShape shape_;
  int64_t max_tokens_ = 0, capacity_ = 0;
};

// Routing and sorting only: from logits [n x E] fills entry_*, group_begin and row_* with
// groups padded to `align` rows (1 for the GEMV path, kGemmRowAlign for the GEMM path).
void moe_route(const float* d_logits, int64_t n, const MoeShape& shape, int32_t align, MoeWorkspace& ws,
               void* stream);

// The MoE FFN of n tokens of normed input h [n x d]: out = moe(h), or out += moe(h) when
// `accumulate` (the residual add of moe_ffn_block). kernel: Auto picks GEMV when
// n * k <= 8, else the GEMM (GEMV for types the GEMM lacks, e.g. F32).
void moe_forward(const MoeWeights& w, const MoeShape& shape, const float* d_h, int64_t n, float* d_out,
                 bool accumulate, MoeWorkspace& ws, void* stream, MatmulKernel kernel = MatmulKernel::Auto);

}  // namespace scout::cuda
