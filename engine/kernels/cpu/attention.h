#pragma once
// Attention of one query head over a window of cached keys and values, read in place from
// the KV cache (F16 or F32 rows): out = softmax(scale * q.K[k0..k1)) . V[k0..k1).
//
// Two implementations, held together by tests/engine/attention_kernel_test.cpp:
// - attend_reference: the plain oracle. Scores with `dot` (matmul.h's order), a two-pass
//   softmax with the sum in double, then the probability-weighted sum of V rows.
// - attend / attend_rows: flash-style. Keys in blocks of kAttendBlock on a grid of absolute
//   positions; a running maximum and sum (online softmax) rescale the accumulated output
//   whenever the maximum grows, so the window is read once and no score vector of its length
//   exists. attend_rows takes many queries of one KV head (a prefill block times the heads
//   of a GQA group) and converts each key block once for all of them; `attend` is its
//   one-row case. AVX2 (+FMA, F16C) when the CPU has it, chosen at run time; a portable loop
//   otherwise. It rounds differently from the reference (FMA, vector exp, rescaling): the two
//   agree to a relative 1e-5, not bit for bit.
// A row's result depends only on its query and window, never on the other rows of the call
// (same blocks, same order): batching cannot change a result.
#include <cstdint>

namespace scout::kernels::cpu {

// Keys or values of one KV head: position p's row starts at element p * stride of data.
struct KvRows {
  const void* data = nullptr;
  int64_t stride = 0;  // elements between consecutive positions
  bool f16 = true;     // IEEE half elements; float otherwise
};

constexpr int64_t kAttendBlock = 64;

// One query head (head_dim floats) over keys [k0, k1), k1 > k0. out: head_dim floats.
void attend(const float* q, const KvRows& k, const KvRows& v, int64_t k0, int64_t k1, int64_t head_dim, float scale,
            float* out);
void attend_reference(const float* q, const KvRows& k, const KvRows& v, int64_t k0, int64_t k1, int64_t head_dim,
                      float scale, float* out);
// The portable flash-style loop (what `attend` runs without AVX2), exposed for the tests.
void attend_portable(const float* q, const KvRows& k, const KvRows& v, int64_t k0, int64_t k1, int64_t head_dim,
                     float scale, float* out);
// Many queries of one KV head at once (a prefill block: consecutive positions times the query
// heads that share the KV head). Row i is the query q[i] (head_dim floats), attending keys
// [k0[i], k1[i]); its output goes to out[i]. Each key block is converted once
// and used by every row: scores come from a small matrix product (4 rows x 32 keys per
// register block, no horizontal sums), then each row's online softmax and P.V as in `attend`
// (values read from the cache in place for up to 8 rows, converted per block for more: the
// same floats either way, so a row's bits never depend on the rows beside it).
// Without AVX2 it runs `attend_portable` row by row.
struct AttendRows {
  const float* const* q = nullptr;
  float* const* out = nullptr;
  const int64_t* k0 = nullptr;
  const int64_t* k1 = nullptr;
  int64_t n_rows = 0;
};
void attend_rows(const AttendRows& rows, const KvRows& k, const KvRows& v, int64_t head_dim, float scale);

}  // namespace scout::kernels::cpu
