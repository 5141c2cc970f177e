#pragma once
// The key/value cache of one sequence: for every layer, K and V of each position, stored in
// F16 (llama.cpp's default) or F32. Storage grows with the sequence up to a fixed limit.
//
// A forward pass writes the K/V of its new positions first and then attends by reading the
// cache back, so a token's attention sees exactly the same (rounded) keys whether they were
// computed in this call or an earlier one: incremental decoding equals one full prefill.
#include <cstdint>
#include <vector>

#include "engine/kernels/cpu/attention.h"
#include "engine/model/hparams.h"

namespace scout::model {

enum class KvType { F16, F32 };

class KvCache {
 public:
  // max_tokens: the most positions this sequence may ever hold (its context size).
  KvCache(const HParams& hp, KvType type, int64_t max_tokens);

  KvType type() const { return type_; }
  int64_t size() const { return size_; }       // positions holding valid K/V
  int64_t max_tokens() const { return max_tokens_; }
  int64_t kv_dim() const { return kv_dim_; }

  // Makes room for positions [0, n). Throws scout::Error when n exceeds max_tokens.
  void reserve(int64_t n);
  // Stores K and V (kv_dim floats each) of position `pos` (< reserved) in `layer`.
  void write(int64_t layer, int64_t pos, const float* k, const float* v);
  // Copies K (or V) of KV head `head` at positions [p0, p1) into out, [(p1 - p0) x head_dim].
  void read_k(int64_t layer, int64_t head, int64_t p0, int64_t p1, float* out) const;
  void read_v(int64_t layer, int64_t head, int64_t p0, int64_t p1, float* out) const;
  // K (or V) of KV head `head` in place, for kernels that read the cache without copying.
  // Valid until the next reserve().
  kernels::cpu::KvRows k_rows(int64_t layer, int64_t head) const;
  kernels::cpu::KvRows v_rows(int64_t layer, int64_t head) const;
  // Declares positions [0, n) valid: after a forward pass, or to drop a suffix (n < size()).
  void set_size(int64_t n);
  void clear() { size_ = 0; }
  // Bytes held by the storage now.
  uint64_t bytes() const;

 private:
  using Buffers16 = std::vector<std::vector<uint16_t>>;
  using Buffers32 = std::vector<std::vector<float>>;
  void read(const Buffers16& h, const Buffers32& f, int64_t layer, int64_t head, int64_t p0, int64_t p1,
            float* out) const;

  KvType type_;
  int64_t n_layer_, kv_dim_, head_dim_, max_tokens_;
  int64_t capacity_ = 0, size_ = 0;
  // One buffer per layer, [capacity x kv_dim]; only the vectors of `type_` are used.
  Buffers16 k16_, v16_;
  Buffers32 k32_, v32_;
};

}  // namespace scout::model
