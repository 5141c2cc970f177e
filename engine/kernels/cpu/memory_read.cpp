#include "engine/kernels/cpu/memory_read.h"

#include <immintrin.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <cstring>
#include <functional>
#include <vector>

namespace scout::kernels::cpu {
namespace {

uint64_t load_word(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

uint64_t tail_sum(const uint8_t* p, size_t n) {
  uint64_t s = 0;
  for (size_t i = n - n % 8; i < n; ++i) s += p[i];
  return s;
}

// Integer adds: cheap enough that the loads are the bottleneck. Four independent
// accumulators of 32 bytes each cover two cache lines per iteration.
__attribute__((target("avx2"))) uint64_t read_sum_avx2(const uint8_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    a0 = _mm256_add_epi64(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    a2 = _mm256_add_epi64(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    a3 = _mm256_add_epi64(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
  uint64_t s = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i + 8 <= n; i += 8) s += load_word(p + i);
  return s + tail_sum(p, n);
}

}  // namespace

uint64_t read_sum_reference(ByteSpan bytes) {
  uint64_t s = 0;
  for (size_t i = 0; i + 8 <= bytes.size(); i += 8) s += load_word(bytes.data() + i);
  return s + tail_sum(bytes.data(), bytes.size());
}

uint64_t read_sum(ByteSpan bytes) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2 ? read_sum_avx2(bytes.data(), bytes.size()) : read_sum_reference(bytes);
}

uint64_t read_sum_parallel(std::span<const ByteSpan> spans) {
  std::vector<ByteSpan> pieces;
  for (ByteSpan s : spans)
    for (size_t off = 0; off < s.size(); off += kReadPieceBytes) pieces.push_back(s.subspan(off, std::min(kReadPieceBytes, s.size() - off)));
  return tbb::parallel_reduce(
      tbb::blocked_range<size_t>(0, pieces.size()), uint64_t(0),
      [&](const tbb::blocked_range<size_t>& r, uint64_t acc) {
        for (size_t i = r.begin(); i < r.end(); ++i) acc += read_sum(pieces[i]);
        return acc;
      },
      std::plus<uint64_t>());
}

}  // namespace scout::kernels::cpu
