// Repacking of quantized activations into the layouts the SIMD kernels read (internal.h).
#include <cstring>

#include "engine/kernels/cpu/qdot/internal.h"
#include "engine/quant/blocks.h"
#include "engine/util/half.h"

namespace scout::kernels::cpu::qdot::detail {

using namespace scout::quant;

Family family_of(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K: return Family::KQuant;
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q8_0: return Family::Block;
    default: return Family::Float;
  }
}

// Byte o of a chunk: bytes 0-31 hold classes 0-3, bytes 32-63 classes 4-7; within each half,
// bytes 0-15 come from positions 0-15 of the chunk and bytes 16-31 from positions 16-31; each
// quad is (A[p], A[p+8], B[p], B[p+8]) with p = 16 * lane + class.
int kquad_element(GgmlType t, int chunk, int o) {
  const int half = o / 32, lane = (o % 32) / 16, cls = (o % 16) / 4 + 4 * half, r = o % 4;
  const int pos = 16 * lane + cls + (r & 1) * 8;  // 0..31
  const bool from_b = r >= 2;
  if (t == GgmlType::Q6_K) {
    // Chunk k reads ql[64h + 32s ..]: A = elements 128h + 32s + pos, B = A + 64.
    const int h = chunk / 2, s = chunk % 2;
    return 128 * h + 32 * s + pos + (from_b ? 64 : 0);
  }
  // Q4_K/Q5_K: chunk g = qs[32g ..]: A = sub-block 2g (low nibbles), B = 2g+1 (high).
  return 64 * chunk + pos + (from_b ? 32 : 0);
}

namespace {

void pack_q8k_row(GgmlType weight, const uint8_t* src, int64_t n_cols, PackedK* out) {
  // The order is a fixed permutation: compute it once per weight type.
  static const auto order = [] {
    struct Orders { uint8_t k45[256], k6[256]; } o{};
    for (int c = 0; c < 4; ++c)
      for (int b = 0; b < kQuadChunk; ++b) {
        o.k45[c * kQuadChunk + b] = uint8_t(kquad_element(GgmlType::Q4_K, c, b));
        o.k6[c * kQuadChunk + b] = uint8_t(kquad_element(GgmlType::Q6_K, c, b));
      }
    return o;
  }();
  const bool q6 = weight == GgmlType::Q6_K;
  const uint8_t* perm = q6 ? order.k6 : order.k45;
  const uint8_t offset = q6 ? 0x80 : 0x00;  // Q6_K's kernels take activations as a + 128
  for (int64_t i = 0; i < n_cols / kQK_K; ++i) {
    BlockQ8_K b;
    std::memcpy(&b, src + i * int64_t(sizeof(BlockQ8_K)), sizeof(b));
    PackedK& p = out[i];
    for (int e = 0; e < 256; ++e) p.q[e] = int8_t(uint8_t(b.qs[perm[e]]) ^ offset);
    for (int j = 0; j < 8; ++j) p.bsum2[j] = int16_t(b.bsums[2 * j] + b.bsums[2 * j + 1]);
    p.d = b.d;
  }
}

// Q8_0 and Q8_1 differ only in Q8_1's extra s field.
template <class Block>
void pack_q8_blocks(const uint8_t* src, int64_t n_cols, PackedB* out) {
  const int64_t n_blocks = n_cols / 32;
  for (int64_t c = 0; c < (n_blocks + 7) / 8; ++c) {
    PackedB& p = out[c];
    std::memset(&p, 0, sizeof(p));
    for (int k = 0; k < 8 && 8 * c + k < n_blocks; ++k) {
      Block b;
      std::memcpy(&b, src + (8 * c + k) * int64_t(sizeof(Block)), sizeof(b));
      std::memcpy(p.q + 32 * k, b.qs, 32);
      p.d[k] = fp16_to_fp32(b.d);
      if constexpr (sizeof(Block) == sizeof(BlockQ8_1)) p.s[k] = fp16_to_fp32(b.s);
      int sum = 0;
      for (int j = 0; j < 32; ++j) sum += b.qs[j];
      p.qsum[k] = sum;
    }
  }
}

}  // namespace

uint64_t packed_row_bytes(GgmlType weight, int64_t n_cols) {
  switch (family_of(weight)) {
    case Family::KQuant: return uint64_t(n_cols / kQK_K) * sizeof(PackedK);
    case Family::Block: return uint64_t((n_cols / 32 + 7) / 8) * sizeof(PackedB);
    case Family::Float: return uint64_t(n_cols) * sizeof(float);
  }
  return 0;
}

void pack_activation_row(GgmlType weight, const void* act, int64_t n_cols, uint8_t* out) {
  const auto* src = static_cast<const uint8_t*>(act);
  switch (family_of(weight)) {
    case Family::KQuant: pack_q8k_row(weight, src, n_cols, reinterpret_cast<PackedK*>(out)); break;
    case Family::Block:
      if (weight == GgmlType::Q4_1 || weight == GgmlType::Q5_1)
        pack_q8_blocks<BlockQ8_1>(src, n_cols, reinterpret_cast<PackedB*>(out));
      else
        pack_q8_blocks<BlockQ8_0>(src, n_cols, reinterpret_cast<PackedB*>(out));
      break;
    case Family::Float: std::memcpy(out, src, size_t(n_cols) * sizeof(float)); break;
  }
}

}  // namespace scout::kernels::cpu::qdot::detail
