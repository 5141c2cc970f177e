#pragma once
// The argument block and the per-lane work of the matmul kernels (gemv.cu, gemm.cu), written
// for host and device like shared_math.cuh: the host test runs gemv_lane for every lane of an
// emulated launch and checks the result against the CPU reference matmul, which proves the
// indexing (groups, token chunks, units, rows) without a GPU.
#include <cstdint>

#include "engine/kernels/cuda/shared_math.cuh"

namespace scout::cuda::hd {

// A (grouped) matrix product. Rows i of the sorted row list belong to groups (experts): group
// g holds rows [group_begin[g], group_begin[g + 1]) and multiplies by the matrix at
// w + g * group_stride. Row i reads activations x[src[i]] (times scale[i]) and writes y[dst[i]].
// Null arrays mean: one group of m rows, src = dst = i, scale 1. src = -1 marks padding.
struct MatmulArgs {
  const uint8_t* w = nullptr;   // group 0's matrix: n_rows rows of row_bytes, n_cols elements each
  const uint8_t* w2 = nullptr;  // the second matrix of a SwiGLU pair (same type and layout) or null
  uint64_t group_stride = 0;    // bytes between consecutive groups' matrices
  uint64_t row_bytes = 0;
  int64_t n_rows = 0, n_cols = 0;
  const float* x = nullptr;
  int64_t ldx = 0;              // floats between activation rows
  float* y = nullptr;
  int64_t ldy = 0;              // floats between output rows
  const int32_t* group_begin = nullptr;
  int32_t n_groups = 1;
  int32_t m = 0;                // rows when group_begin is null
  const int32_t* src = nullptr;
  const float* scale = nullptr;
  const int32_t* dst = nullptr;
  // GEMV only: blockIdx.y counts the non-empty groups (in order) instead of all groups, so a
  // decode step launches slices for the few experts its tokens chose, not for every expert.
  bool compact_groups = false;
};

SCOUT_HD int32_t row_src(const MatmulArgs& a, int64_t i) { return a.src ? a.src[i] : int32_t(i); }
SCOUT_HD float row_scale(const MatmulArgs& a, int64_t i) { return a.scale ? a.scale[i] : 1.0f; }
SCOUT_HD int32_t row_dst(const MatmulArgs& a, int64_t i) { return a.dst ? a.dst[i] : int32_t(i); }

// Rows [begin, end) of group g.
SCOUT_HD void group_rows(const MatmulArgs& a, int g, int64_t& begin, int64_t& end) {
  if (a.group_begin) {
    begin = a.group_begin[g];
    end = a.group_begin[g + 1];
  } else {
    begin = 0;
    end = a.m;
  }
}

// The group holding sorted row i (groups are contiguous and non-decreasing); -1 past the end.
SCOUT_HD int find_group(const MatmulArgs& a, int64_t i) {
  if (!a.group_begin) return i < a.m ? 0 : -1;
  for (int g = 0; g < a.n_groups; ++g)
    if (i >= a.group_begin[g] && i < a.group_begin[g + 1]) return g;
  return -1;
}

// Eight floats at p (16-byte aligned on the device), times `scale` as the CPU reference scales
// an expert's input (one rounded product each).
SCOUT_HD void load_x8(const float* p, float scale, bool scaled, float* out) {
  load_x8_plain(p, out);
  if (scaled)
    for (int i = 0; i < 8; ++i) out[i] = fmul(out[i], scale);
}

// ------------------------------------------------------------------ GEMV (decode)
//
// A block of kGemvWarps warps computes kGemvRowsPerWarp weight rows per warp for up to
// kGemvTokens sorted rows ("tokens") of one group: blockIdx.x = row block, blockIdx.y = group
// (or the y-th non-empty group, compact_groups), blockIdx.z = chunk of kGemvTokens rows within the group. Lane l of a warp takes units
// l, l + 32, ... of its rows, decodes each once and multiplies it with every token.

inline constexpr int kGemvTokens = 8;
inline constexpr int kGemvWarps = 4;
inline constexpr int kGemvRowsPerWarp = 2;
inline constexpr int kGemvRowsPerBlock = kGemvWarps * kGemvRowsPerWarp;

struct GemvTokens {
  int n = 0;                        // tokens in this chunk (<= kGemvTokens)
  int group = 0;
  int64_t x_off[kGemvTokens] = {};  // offset of the token's activation row in x; -1 = padding
  float scale[kGemvTokens] = {};
  int32_t dst[kGemvTokens] = {};
};

// The y-th group holding rows, or -1.
SCOUT_HD int nth_nonempty_group(const MatmulArgs& a, int y) {
  int seen = 0;
  for (int g = 0; g < a.n_groups; ++g) {
    if (a.group_begin[g + 1] == a.group_begin[g]) continue;
    if (seen == y) return g;
    ++seen;
  }
  return -1;
}

// The tokens of (group slice, chunk); false when the chunk is empty.
SCOUT_HD bool gemv_tokens(const MatmulArgs& a, int slice, int chunk, GemvTokens& tk) {
  const int group = a.compact_groups && a.group_begin ? nth_nonempty_group(a, slice) : slice;
  if (group < 0) return false;
  int64_t begin, end;
  group_rows(a, group, begin, end);
  const int64_t first = begin + int64_t(chunk) * kGemvTokens;
  if (first >= end) return false;
  tk.group = group;
  tk.n = int(end - first < kGemvTokens ? end - first : kGemvTokens);
  for (int t = 0; t < kGemvTokens; ++t) {
    if (t < tk.n) {
      const int64_t i = first + t;
      const int32_t s = row_src(a, i);
      tk.x_off[t] = s < 0 ? -1 : int64_t(s) * a.ldx;
      tk.scale[t] = row_scale(a, i);
      tk.dst[t] = row_dst(a, i);
    } else {
      tk.x_off[t] = -1;
      tk.scale[t] = 0.0f;
      tk.dst[t] = -1;
    }
  }
  return true;
}

// Lane `lane`'s partial sums of rows row0 .. row0 + kGemvRowsPerWarp - 1 (acc[p][r][t]: matrix
// p of the pair, row r, token t); the warp's 32 partial sums add up to the dot products.
template <quant::GgmlType T, bool kPair>
SCOUT_HD void gemv_lane(const MatmulArgs& a, const GemvTokens& tk, int64_t row0, int lane,
                        float (&acc)[2][kGemvRowsPerWarp][kGemvTokens]) {
  const int64_t n_units = a.n_cols / kUnit;
  const uint8_t* w = a.w + uint64_t(tk.group) * a.group_stride;
  const uint8_t* w2 = kPair ? a.w2 + uint64_t(tk.group) * a.group_stride : nullptr;
  const bool scaled = a.scale != nullptr;
  constexpr int P = kPair ? 2 : 1;
  for (int64_t u = lane; u < n_units; u += 32) {
    // Decode this unit of every row (and pair matrix) once ...
    float wv[P][kGemvRowsPerWarp][kUnit];
SCOUT_UNROLL
    for (int r = 0; r < kGemvRowsPerWarp; ++r) {
      const int64_t row = row0 + r < a.n_rows ? row0 + r : a.n_rows - 1;  // a clamped duplicate, never stored
SCOUT_UNROLL
      for (int p = 0; p < P; ++p) decode_unit<T>((p == 0 ? w : w2) + uint64_t(row) * a.row_bytes, u, wv[p][r]);
    }
    // ... then stream the tokens' activations past it.
SCOUT_UNROLL
    for (int t = 0; t < kGemvTokens; ++t) {
      if (t >= tk.n) break;
      if (tk.x_off[t] < 0) continue;
      float xv[kUnit];
      load_x8(a.x + tk.x_off[t] + kUnit * u, tk.scale[t], scaled, xv);
SCOUT_UNROLL
      for (int p = 0; p < P; ++p)
SCOUT_UNROLL
        for (int r = 0; r < kGemvRowsPerWarp; ++r) {
          float s = acc[p][r][t];
SCOUT_UNROLL
          for (int i = 0; i < kUnit; ++i) s += wv[p][r][i] * xv[i];
          acc[p][r][t] = s;
        }
    }
  }
}

// ------------------------------------------------------------------ GEMM (prefill)
//
// Tiles of kGemmBM sorted rows x kGemmBN weight rows, kGemmBK columns per step; 4 warps, each
// a 32 x 32 quarter of the tile with 16x16x16 tensor-core fragments. Grouped GEMMs need every
// group's row count padded to kGemmBM (MoE: align = kGemmBM), so a tile never spans groups.
inline constexpr int kGemmBM = 64;
inline constexpr int kGemmBN = 64;
inline constexpr int kGemmBK = 64;
inline constexpr int kGemmThreads = 128;

}  // namespace scout::cuda::hd
