#include "engine/model/kv_cache.h"

#include <algorithm>
#include <string>

#include "engine/util/error.h"
#include "engine/util/half.h"
#include "engine/util/half_row.h"

namespace scout::model {

KvCache::KvCache(const HParams& hp, KvType type, int64_t max_tokens)
    : type_(type),
      n_layer_(hp.n_layer),
      kv_dim_(hp.n_head_kv * hp.head_dim),
      head_dim_(hp.head_dim),
      max_tokens_(max_tokens) {
  if (max_tokens <= 0) throw Error("KV cache: the context size must be positive");
  if (type_ == KvType::F16) {
    k16_.resize(size_t(n_layer_));
    v16_.resize(size_t(n_layer_));
  } else {
    k32_.resize(size_t(n_layer_));
    v32_.resize(size_t(n_layer_));
  }
}

void KvCache::reserve(int64_t n) {
  if (n > max_tokens_)
    throw Error("sequence of " + std::to_string(n) + " tokens exceeds the context size of " +
                std::to_string(max_tokens_));
  if (n <= capacity_) return;
  // Geometric growth (in 256-position steps) keeps token-by-token decoding from copying the
  // whole cache at every step.
  int64_t cap = std::max<int64_t>({n, 2 * capacity_, 256});
  cap = std::min(max_tokens_, (cap + 255) / 256 * 256);
  const size_t elems = size_t(cap * kv_dim_);
  for (int64_t l = 0; l < n_layer_; ++l) {
    if (type_ == KvType::F16) {
      k16_[size_t(l)].resize(elems);
      v16_[size_t(l)].resize(elems);
    } else {
      k32_[size_t(l)].resize(elems);
      v32_[size_t(l)].resize(elems);
    }
  }
  capacity_ = cap;
}

void KvCache::write(int64_t layer, int64_t pos, const float* k, const float* v) {
  if (pos < 0 || pos >= capacity_) throw Error("KV cache: write at position " + std::to_string(pos) + " not reserved");
  const size_t off = size_t(pos * kv_dim_);
  if (type_ == KvType::F16) {
    fp32_to_fp16_row(k, k16_[size_t(layer)].data() + off, kv_dim_);
    fp32_to_fp16_row(v, v16_[size_t(layer)].data() + off, kv_dim_);
  } else {
    std::copy(k, k + kv_dim_, k32_[size_t(layer)].data() + off);
    std::copy(v, v + kv_dim_, v32_[size_t(layer)].data() + off);
  }
}

void KvCache::read(const Buffers16& h, const Buffers32& f, int64_t layer, int64_t head, int64_t p0, int64_t p1,
                   float* out) const {
  for (int64_t p = p0; p < p1; ++p) {
    const size_t off = size_t(p * kv_dim_ + head * head_dim_);
    float* o = out + (p - p0) * head_dim_;
    if (type_ == KvType::F16) {
      const uint16_t* src = h[size_t(layer)].data() + off;
      for (int64_t i = 0; i < head_dim_; ++i) o[i] = fp16_to_fp32(src[i]);
    } else {
      const float* src = f[size_t(layer)].data() + off;
      std::copy(src, src + head_dim_, o);
    }
  }
}

void KvCache::read_k(int64_t layer, int64_t head, int64_t p0, int64_t p1, float* out) const {
  read(k16_, k32_, layer, head, p0, p1, out);
}

void KvCache::read_v(int64_t layer, int64_t head, int64_t p0, int64_t p1, float* out) const {
  read(v16_, v32_, layer, head, p0, p1, out);
}

kernels::cpu::KvRows KvCache::k_rows(int64_t layer, int64_t head) const {
  const size_t l = size_t(layer), off = size_t(head * head_dim_);
  if (type_ == KvType::F16) return {k16_[l].data() + off, kv_dim_, true};
  return {k32_[l].data() + off, kv_dim_, false};
}

kernels::cpu::KvRows KvCache::v_rows(int64_t layer, int64_t head) const {
  const size_t l = size_t(layer), off = size_t(head * head_dim_);
  if (type_ == KvType::F16) return {v16_[l].data() + off, kv_dim_, true};
  return {v32_[l].data() + off, kv_dim_, false};
}

void KvCache::set_size(int64_t n) {
  if (n < 0 || n > capacity_) throw Error("KV cache: size " + std::to_string(n) + " beyond the reserved storage");
  size_ = n;
}

uint64_t KvCache::bytes() const {
  const uint64_t per = type_ == KvType::F16 ? 2 : 4;
  return uint64_t(2 * n_layer_ * capacity_ * kv_dim_) * per;
}

}  // namespace scout::model
