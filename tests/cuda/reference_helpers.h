#pragma once
// CPU-side helpers shared by the CUDA kernel tests (tests/cuda, GPU only) and the host test of
// the shared math (tests/engine/cuda_shared_math_test.cpp, every build). No CUDA in here.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "engine/kernels/cpu/matmul.h"
#include "engine/model/hparams.h"
#include "engine/model/kv_cache.h"
#include "engine/model/layers.h"
#include "engine/quant/quantize.h"
#include "engine/quant/types.h"
#include "engine/util/half.h"

namespace scout::test {

inline std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// A matrix of n_rows x n_cols random normal values stored as `type` (quantized with the
// reference quantizer, so every block is one a real model could hold).
inline std::vector<uint8_t> random_matrix(quant::GgmlType type, int64_t n_rows, int64_t n_cols, uint32_t seed,
                                          float scale = 0.05f) {
  const auto f = randn(size_t(n_rows * n_cols), seed, scale);
  const uint64_t rb = *quant::row_bytes(type, n_cols);
  std::vector<uint8_t> bytes(size_t(rb * uint64_t(n_rows)));
  for (int64_t r = 0; r < n_rows; ++r) quant::quantize_row(type, f.data() + r * n_cols, bytes.data() + rb * r, n_cols);
  return bytes;
}

// ||got - want|| / ||want||; infinity when got has a NaN or infinity (unwritten, poisoned).
inline double rel_error(const float* got, const float* want, size_t n) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    const double d = double(got[i]) - double(want[i]);
    num += d * d;
    den += double(want[i]) * double(want[i]);
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}
inline double rel_error(const std::vector<float>& got, const std::vector<float>& want) {
  return got.size() == want.size() ? rel_error(got.data(), want.data(), got.size()) : INFINITY;
}

// One sequence of an attention test: its cached prefix and new tokens, K/V in F32 (the
// reference cache rounds them to F16, like the device cache).
struct AttnTestSeq {
  int64_t pos0 = 0;  // tokens already cached
  int64_t n = 0;     // new tokens
};

struct AttnTestCase {
  int64_t n_head = 0, n_head_kv = 0, head_dim = 0, chunk = 0;
  std::vector<AttnTestSeq> seqs;
  std::vector<std::vector<float>> k, v;  // per sequence: [(pos0 + n) x kv_dim]
  std::vector<float> q;                  // [total new tokens x n_head * head_dim]
  int64_t total_new() const {
    int64_t t = 0;
    for (const auto& s : seqs) t += s.n;
    return t;
  }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
  int64_t q_dim() const { return n_head * head_dim; }
};

inline AttnTestCase make_attention_case(int64_t n_head, int64_t n_head_kv, int64_t head_dim, int64_t chunk,
                                        std::vector<AttnTestSeq> seqs, uint32_t seed) {
  AttnTestCase c;
  c.n_head = n_head;
  c.n_head_kv = n_head_kv;
  c.head_dim = head_dim;
  c.chunk = chunk;
  c.seqs = std::move(seqs);
  uint32_t s = seed;
  for (const auto& sq : c.seqs) {
    c.k.push_back(randn(size_t((sq.pos0 + sq.n) * c.kv_dim()), ++s));
    c.v.push_back(randn(size_t((sq.pos0 + sq.n) * c.kv_dim()), ++s));
  }
  c.q = randn(size_t(c.total_new() * c.q_dim()), ++s);
  return c;
}

// model::attention over F16 caches holding every position of every sequence.
inline std::vector<float> reference_attention(const AttnTestCase& c) {
  model::HParams hp;
  hp.n_layer = 1;
  hp.n_head = c.n_head;
  hp.n_head_kv = c.n_head_kv;
  hp.head_dim = c.head_dim;
  std::vector<std::unique_ptr<model::KvCache>> caches;
  model::BatchLayout batch;
  int64_t first = 0;
  for (size_t i = 0; i < c.seqs.size(); ++i) {
    const auto& sq = c.seqs[i];
    caches.push_back(std::make_unique<model::KvCache>(hp, model::KvType::F16, sq.pos0 + sq.n));
    auto& cache = *caches.back();
    cache.reserve(sq.pos0 + sq.n);
    for (int64_t p = 0; p < sq.pos0 + sq.n; ++p)
      cache.write(0, p, c.k[i].data() + p * c.kv_dim(), c.v[i].data() + p * c.kv_dim());
    batch.seqs.push_back({&cache, first, sq.n, sq.pos0});
    for (int64_t j = 0; j < sq.n; ++j) batch.pos.push_back(sq.pos0 + j);
    first += sq.n;
  }
  std::vector<float> out(c.q.size());
  model::attention(batch, hp, 0, c.q.data(), c.chunk, out.data());
  return out;
}

// F16 bits of a sequence's K or V, as the device cache holds them.
inline std::vector<uint16_t> to_f16(const std::vector<float>& x) {
  std::vector<uint16_t> h(x.size());
  for (size_t i = 0; i < x.size(); ++i) h[i] = fp32_to_fp16(x[i]);
  return h;
}

}  // namespace scout::test
