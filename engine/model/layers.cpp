#include "engine/model/layers.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

#include "engine/kernels/cpu/activation.h"
#include "engine/kernels/cpu/attention.h"
#include "engine/kernels/cpu/matmul.h"

namespace scout::model {

using kernels::cpu::matmul;

void parallel_rows(int64_t n, const std::function<void(int64_t)>& f) {
  if (n == 1) {  // one row (a decode step): not worth waking the pool
    f(0);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t i = r.begin(); i != r.end(); ++i) f(i);
  });
}

void rms_norm(const float* x, int64_t n, float eps, const float* weight, float* out) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(x[i]) * double(x[i]);
  const float mean = float(sum / double(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = weight ? (x[i] * scale) * weight[i] : x[i] * scale;
}

void rms_norm_rows(const float* x, int64_t n_rows, int64_t n, float eps, const float* weight, float* out) {
  parallel_rows(n_rows, [&](int64_t r) { rms_norm(x + r * n, n, eps, weight, out + r * n); });
}

Rope::Rope(const HParams& hp, std::span<const float> freq_factors)
    : head_dim_(hp.head_dim),
      n_rot_(hp.n_rot),
      theta_scale_(std::pow(hp.rope_freq_base, -2.0f / float(hp.n_rot))),
      freq_scale_(hp.rope_freq_scale),
      factors_(freq_factors.begin(), freq_factors.end()) {
  if (factors_.empty()) factors_.assign(size_t(n_rot_ / 2), 1.0f);
}

void Rope::apply(float* x, int64_t n_heads, int64_t pos) const {
  // theta_i built by repeated multiplication in float, the way ggml's rope cache does, so the
  // angles round as llama.cpp's do.
  std::vector<float> cos_t(size_t(n_rot_ / 2)), sin_t(size_t(n_rot_ / 2));
  float theta = float(pos);
  for (int64_t i = 0; i < n_rot_ / 2; ++i) {
    const float t = freq_scale_ * (theta / factors_[size_t(i)]);
    cos_t[size_t(i)] = std::cos(t);
    sin_t[size_t(i)] = std::sin(t);
    theta *= theta_scale_;
  }
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim_;
    for (int64_t i = 0; i < n_rot_ / 2; ++i) {
      const float x0 = v[2 * i], x1 = v[2 * i + 1];
      v[2 * i] = x0 * cos_t[size_t(i)] - x1 * sin_t[size_t(i)];
      v[2 * i + 1] = x0 * sin_t[size_t(i)] + x1 * cos_t[size_t(i)];
    }
  }
}

void store_kv(const BatchLayout& batch, int64_t layer, const float* k, const float* v) {
  for (const auto& s : batch.seqs) {
    const int64_t kv_dim = s.cache->kv_dim();
    for (int64_t i = 0; i < s.n; ++i) {
      const int64_t t = s.first + i;
      s.cache->write(layer, s.pos0 + i, k + t * kv_dim, v + t * kv_dim);
    }
  }
}

namespace {

// Queries of one sequence handled by one attention task (with every query head of one KV head).
constexpr int64_t kQueryBlock = 32;

struct AttentionTask {
  const BatchLayout::Seq* seq;
  int64_t kv_head;
  int64_t q_begin, q_end;  // token offsets within the sequence's part of the batch
};

}  // namespace

void attention(const BatchLayout& batch, const HParams& hp, int64_t layer, const float* q, int64_t chunk,
               float* out) {
  const int64_t hd = hp.head_dim, group = hp.n_head / hp.n_head_kv, q_dim = hp.n_head * hd;
  const float scale = 1.0f / std::sqrt(float(hd));
  std::vector<AttentionTask> tasks;
  for (const auto& s : batch.seqs)
    for (int64_t g = 0; g < hp.n_head_kv; ++g)
      for (int64_t b = 0; b < s.n; b += kQueryBlock) tasks.push_back({&s, g, b, std::min(s.n, b + kQueryBlock)});

  parallel_rows(int64_t(tasks.size()), [&](int64_t ti) {
    const AttentionTask& task = tasks[size_t(ti)];
    const auto& s = *task.seq;
    const kernels::cpu::KvRows k = s.cache->k_rows(layer, task.kv_head), v = s.cache->v_rows(layer, task.kv_head);
    // Rows: every (query, head of the group) of the task.
    std::vector<const float*> q_rows;
    std::vector<float*> out_rows;
    std::vector<int64_t> k0, k1;
    for (int64_t i = task.q_begin; i < task.q_end; ++i) {
      const int64_t t = s.first + i, pos = s.pos0 + i;
      for (int64_t j = 0; j < group; ++j) {
        const int64_t h = task.kv_head * group + j;
        q_rows.push_back(q + t * q_dim + h * hd);
        out_rows.push_back(out + t * q_dim + h * hd);
        k0.push_back(attention_window_start(pos, chunk));
        k1.push_back(pos + 1);
      }
    }
    kernels::cpu::attend_rows({q_rows.data(), out_rows.data(), k0.data(), k1.data(), int64_t(q_rows.size())}, k, v, hd,
                              scale);
  });
}

void swiglu(const WeightView& gate, const WeightView& up, const WeightView& down, const float* x, int64_t n,
            float* out) {
  const int64_t ff = gate.n_rows;
  std::vector<float> g(size_t(n * ff)), u(size_t(n * ff));
  matmul(gate, x, n, g.data());
  matmul(up, x, n, u.data());
  parallel_rows(n, [&](int64_t t) { kernels::cpu::silu_mul(g.data() + t * ff, u.data() + t * ff, ff); });
  matmul(down, g.data(), n, out);
}

void attention_block(const LayerWeights& w, const HParams& hp, int64_t layer, const BatchLayout& batch,
                     const QkTransform& qk, int64_t chunk, float* x) {
  const int64_t n = batch.n_tokens(), d = hp.n_embd;
  const int64_t q_dim = hp.n_head * hp.head_dim, kv_dim = hp.n_head_kv * hp.head_dim;
  std::vector<float> h(size_t(n * d)), q(size_t(n * q_dim)), k(size_t(n * kv_dim)), v(size_t(n * kv_dim));
  rms_norm_rows(x, n, d, hp.rms_eps, w.attn_norm.data(), h.data());
  matmul(w.wq, h.data(), n, q.data());
  matmul(w.wk, h.data(), n, k.data());
  matmul(w.wv, h.data(), n, v.data());
  parallel_rows(n, [&](int64_t t) { qk(batch.pos[size_t(t)], q.data() + t * q_dim, k.data() + t * kv_dim); });
  store_kv(batch, layer, k.data(), v.data());
  std::vector<float> att(size_t(n * q_dim));
  attention(batch, hp, layer, q.data(), chunk, att.data());
  matmul(w.wo, att.data(), n, h.data());
  add_in_place(x, h.data(), n * d);
}

void dense_ffn_block(const LayerWeights& w, const HParams& hp, int64_t n_tokens, float* x) {
  const int64_t d = hp.n_embd;
  std::vector<float> h(size_t(n_tokens * d)), y(size_t(n_tokens * d));
  rms_norm_rows(x, n_tokens, d, hp.rms_eps, w.ffn_norm.data(), h.data());
  swiglu(w.ffn_gate, w.ffn_up, w.ffn_down, h.data(), n_tokens, y.data());
  add_in_place(x, y.data(), n_tokens * d);
}

}  // namespace scout::model
