// The flash-style attention kernel (online softmax, AVX2 or portable) against the plain
// two-pass reference, on F16 and F32 caches, windows that start and end inside key blocks,
// scores whose maximum grows late (the rescaling path) and peaked distributions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "engine/kernels/cpu/attention.h"
#include "engine/util/half.h"

namespace scout {
namespace {

using kernels::cpu::KvRows;

struct Window {
  int64_t head_dim, stride, n_pos;
  std::vector<float> q, k32, v32;
  std::vector<uint16_t> k16, v16;
};

// n_pos positions of `stride` elements; the head under test is at offset 0. `ramp` adds a
// growing component along q to each key, so later keys score higher (the maximum moves).
Window make_window(int64_t head_dim, int64_t n_pos, uint32_t seed, float q_scale, float ramp) {
  Window w{head_dim, head_dim * 3, n_pos, {}, {}, {}, {}, {}};
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  w.q.resize(size_t(head_dim));
  for (auto& x : w.q) x = nd(rng) * q_scale;
  const size_t total = size_t(n_pos * w.stride);
  w.k32.resize(total);
  w.v32.resize(total);
  for (int64_t p = 0; p < n_pos; ++p)
    for (int64_t i = 0; i < w.stride; ++i) {
      const size_t at = size_t(p * w.stride + i);
      float kx = nd(rng);
      if (i < head_dim) kx += ramp * float(p) / float(n_pos) * w.q[size_t(i)];
      // Round through half so the F16 and F32 caches hold the same values.
      w.k32[at] = fp16_to_fp32(fp32_to_fp16(kx));
      w.v32[at] = fp16_to_fp32(fp32_to_fp16(nd(rng)));
    }
  for (float x : w.k32) w.k16.push_back(fp32_to_fp16(x));
  for (float x : w.v32) w.v16.push_back(fp32_to_fp16(x));
  return w;
}

// Largest |a - b| relative to the largest |b| (outputs are convex combinations of V rows).
double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, double(std::fabs(a[i] - b[i])));
    den = std::max(den, double(std::fabs(b[i])));
  }
  return num / den;
}

void check_window(const Window& w, int64_t k0, int64_t k1) {
  const float scale = 1.0f / std::sqrt(float(w.head_dim));
  for (bool f16 : {true, false}) {
    const KvRows k{f16 ? static_cast<const void*>(w.k16.data()) : w.k32.data(), w.stride, f16};
    const KvRows v{f16 ? static_cast<const void*>(w.v16.data()) : w.v32.data(), w.stride, f16};
    std::vector<float> ref(size_t(w.head_dim)), fast(ref.size()), portable(ref.size());
    kernels::cpu::attend_reference(w.q.data(), k, v, k0, k1, w.head_dim, scale, ref.data());
    kernels::cpu::attend(w.q.data(), k, v, k0, k1, w.head_dim, scale, fast.data());
    kernels::cpu::attend_portable(w.q.data(), k, v, k0, k1, w.head_dim, scale, portable.data());
    EXPECT_LT(rel_err(fast, ref), 2e-5) << "f16=" << f16 << " window [" << k0 << ", " << k1 << ") hd " << w.head_dim;
    EXPECT_LT(rel_err(portable, ref), 2e-5) << "f16=" << f16 << " window [" << k0 << ", " << k1 << ")";
  }
}

TEST(AttentionKernel, MatchesReferenceOnManyWindows) {
  for (int64_t hd : {64, 128, 72, 12}) {
    const Window w = make_window(hd, 1100, uint32_t(hd), 1.0f, 0.0f);
    for (auto [k0, k1] : std::vector<std::pair<int64_t, int64_t>>{
             {0, 1}, {0, 7}, {0, 64}, {0, 65}, {5, 130}, {63, 64}, {100, 1100}, {1024, 1100}})
      check_window(w, k0, k1);
  }
}

TEST(AttentionKernel, MaximumGrowingAcrossBlocksIsRescaled) {
  // Keys score higher and higher along the window, by tens of logits: every block raises the
  // running maximum, so the accumulated output is rescaled many times.
  const Window w = make_window(128, 700, 7, 1.0f, 3.0f);
  check_window(w, 0, 700);
  check_window(w, 3, 517);
}

TEST(AttentionKernel, PeakedDistributionPicksTheMatchingValue) {
  // One key equals a large multiple of q: the softmax is one-hot and the output is its V row.
  Window w = make_window(64, 200, 11, 1.0f, 0.0f);
  const int64_t hit = 137;
  for (int64_t i = 0; i < w.head_dim; ++i) {
    const float kx = fp16_to_fp32(fp32_to_fp16(w.q[size_t(i)] * 30.0f));
    w.k32[size_t(hit * w.stride + i)] = kx;
    w.k16[size_t(hit * w.stride + i)] = fp32_to_fp16(kx);
  }
  const KvRows k{w.k16.data(), w.stride, true}, v{w.v16.data(), w.stride, true};
  std::vector<float> out(size_t(w.head_dim));
  kernels::cpu::attend(w.q.data(), k, v, 0, 200, w.head_dim, 1.0f / 8.0f, out.data());
  for (int64_t i = 0; i < w.head_dim; ++i) EXPECT_NEAR(out[size_t(i)], w.v32[size_t(hit * w.stride + i)], 1e-5);
  check_window(w, 0, 200);
}

TEST(AttentionKernel, SingleKeyReturnsItsValue) {
  const Window w = make_window(128, 10, 3, 1.0f, 0.0f);
  const KvRows k{w.k32.data(), w.stride, false}, v{w.v32.data(), w.stride, false};
  std::vector<float> out(size_t(w.head_dim));
  kernels::cpu::attend(w.q.data(), k, v, 4, 5, w.head_dim, 0.1f, out.data());
  for (int64_t i = 0; i < w.head_dim; ++i) EXPECT_FLOAT_EQ(out[size_t(i)], w.v32[size_t(4 * w.stride + i)]);
}

TEST(AttentionKernel, RowsMatchTheReferenceRowByRow) {
  // A prefill block: 37 consecutive positions x 3 query heads, some windows starting later
  // (a chunk boundary inside the block), keys spanning several key blocks.
  for (int64_t hd : {64, 128, 72, 12}) {
    const Window w = make_window(hd, 400, uint32_t(100 + hd), 1.0f, 1.5f);
    const int64_t n_pos = 37, heads = 3, first = 290;
    std::vector<std::vector<float>> q(size_t(n_pos * heads));
    std::mt19937 rng{uint32_t(hd)};
    std::normal_distribution<float> nd;
    for (auto& row : q) {
      row.resize(size_t(hd));
      for (auto& x : row) x = nd(rng);
    }
    std::vector<const float*> qp;
    std::vector<float*> op;
    std::vector<int64_t> k0, k1;
    std::vector<std::vector<float>> out(q.size(), std::vector<float>(size_t(hd)));
    for (int64_t p = 0; p < n_pos; ++p)
      for (int64_t h = 0; h < heads; ++h) {
        const size_t r = size_t(p * heads + h);
        qp.push_back(q[r].data());
        op.push_back(out[r].data());
        const int64_t pos = first + p;
        k0.push_back(pos >= 310 ? 310 : 0);  // windows restart at 310
        k1.push_back(pos + 1);
      }
    const float scale = 1.0f / std::sqrt(float(hd));
    for (bool f16 : {true, false}) {
      const KvRows k{f16 ? static_cast<const void*>(w.k16.data()) : w.k32.data(), w.stride, f16};
      const KvRows v{f16 ? static_cast<const void*>(w.v16.data()) : w.v32.data(), w.stride, f16};
      kernels::cpu::attend_rows({qp.data(), op.data(), k0.data(), k1.data(), int64_t(qp.size())}, k, v, hd, scale);
      for (size_t r = 0; r < q.size(); ++r) {
        std::vector<float> ref(static_cast<size_t>(hd));
        kernels::cpu::attend_reference(q[r].data(), k, v, k0[r], k1[r], hd, scale, ref.data());
        EXPECT_LT(rel_err(out[r], ref), 2e-5) << "hd " << hd << " f16 " << f16 << " row " << r;
        // The row alone (as in decoding, where few rows read the values in place) gives the
        // same bits as inside the block: batching never changes a result.
        std::vector<float> alone(static_cast<size_t>(hd));
        kernels::cpu::attend(q[r].data(), k, v, k0[r], k1[r], hd, scale, alone.data());
        EXPECT_EQ(alone, out[r]) << "hd " << hd << " f16 " << f16 << " row " << r;
      }
    }
  }
}

}  // namespace
}  // namespace scout
