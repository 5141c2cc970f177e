// Dispatch, activation quantization and the tiled, threaded qgemm driver.
#include <tbb/blocked_range.h>
#include <tbb/blocked_range2d.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "engine/kernels/cpu/qdot/internal.h"
#include "engine/util/cpu_features.h"
#include "engine/quant/quantize.h"
#include "engine/util/error.h"

namespace scout::kernels::cpu::qdot {

using detail::Family;
using quant::GgmlType;

namespace {

// SCOUT_QDOT_ISA=reference|avx2|avx512 caps the path (debugging, A/B runs); otherwise the
// fastest the CPU has.
Isa pick_isa() {
  Isa best = cpu_has_avx512_vnni() ? Isa::Avx512 : cpu_has_avx2_fma_f16c() ? Isa::Avx2 : Isa::Reference;
  if (const char* env = std::getenv("SCOUT_QDOT_ISA")) {
    for (Isa isa : {Isa::Reference, Isa::Avx2, Isa::Avx512})
      if (std::string_view(env) == isa_name(isa) && isa_available(isa) && int(isa) < int(best)) best = isa;
  }
  return best;
}

void require_supported(GgmlType t, const char* what) {
  if (!supported(t)) throw Error(std::string(what) + ": no qdot kernel for " + quant::type_label(t));
}

void require_columns(GgmlType t, int64_t n_cols, const char* what) {
  // K-quants need whole 256-element superblocks, the others whole blocks of their own type.
  quant::require_whole_blocks(t, n_cols, what);
  if (n_cols < 0) throw Error(std::string(what) + ": negative column count");
}

void require_isa(Isa isa) {
  if (!isa_available(isa)) throw Error(std::string("qdot: the ") + isa_name(isa) + " path is not available on this CPU");
}

// Work this small runs on the calling thread: waking the pool and splitting costs more than
// it saves (a decode step of a small model makes ~50 such calls). Float weights go through
// about twice the bytes per microsecond of quantized ones (no decoding), and a 128 KiB F16
// matrix already gains from two threads (tiny-scout F16 decode: 1.8k -> 2.6k tokens/s),
// so their threshold is lower.
constexpr uint64_t kSerialWorkBytes = 256 * 1024;
constexpr uint64_t kSerialFloatWorkBytes = 32 * 1024;

bool small_work(const MatrixView& w, int64_t n_tokens) {
  const uint64_t limit = detail::family_of(w.type) == Family::Float ? kSerialFloatWorkBytes : kSerialWorkBytes;
  return uint64_t(w.n_rows) * w.row_bytes * uint64_t(n_tokens) < limit;
}

// f(i) for i in [0, n): in parallel, or serially when `serial`.
template <class F>
void for_each_index(int64_t n, bool serial, const F& f) {
  if (serial || n == 1) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
  tbb::parallel_for(int64_t(0), n, f);
}

// 64-byte aligned scratch for packed activations.
struct AlignedBuffer {
  struct Free {
    void operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  std::unique_ptr<uint8_t[], Free> data;
  explicit AlignedBuffer(size_t n) : data(static_cast<uint8_t*>(::operator new[](n ? n : 1, std::align_val_t(64)))) {}
};

detail::TileFn tile_fn(Isa isa, GgmlType t) {
  return isa == Isa::Avx512 ? detail::tile_fn_avx512(t) : detail::tile_fn_avx2(t);
}

void qgemm_reference(const MatrixView& w, const uint8_t* act, uint64_t act_bytes, int64_t n_tokens, float* y) {
  tbb::parallel_for(tbb::blocked_range2d<int64_t>(0, w.n_rows, 64, 0, n_tokens, 8), [&](const auto& range) {
    for (int64_t t = range.cols().begin(); t != range.cols().end(); ++t)
      for (int64_t r = range.rows().begin(); r != range.rows().end(); ++r)
        y[t * w.n_rows + r] = detail::dot_ref(w.type, w.data + uint64_t(r) * w.row_bytes, act + uint64_t(t) * act_bytes, w.n_cols);
  });
}

void qgemm_tiled(Isa isa, const MatrixView& w, const uint8_t* act, int64_t n_tokens, float* y) {
  const detail::TileFn fn = tile_fn(isa, w.type);
  const uint64_t act_bytes = activation_row_bytes(w.type, w.n_cols);
  // Float activations are read in place; quantized ones are repacked once for all tiles.
  const uint8_t* packed = act;
  uint64_t packed_stride = act_bytes;
  std::unique_ptr<AlignedBuffer> buffer;
  if (detail::family_of(w.type) != Family::Float) {
    packed_stride = detail::packed_row_bytes(w.type, w.n_cols);
    buffer = std::make_unique<AlignedBuffer>(size_t(packed_stride * uint64_t(n_tokens)));
    uint8_t* out = buffer->data.get();
    for_each_index(n_tokens, small_work(w, n_tokens), [&](int64_t t) {
      detail::pack_activation_row(w.type, act + uint64_t(t) * act_bytes, w.n_cols, out + uint64_t(t) * packed_stride);
    });
    packed = out;
  }
  const int64_t row_tiles = (w.n_rows + detail::kTileRows - 1) / detail::kTileRows;
  // Token tiles of near-equal size (35 tokens: 18 + 17, not 32 + 3): a tile of 1-3 tokens
  // runs a float kernel that reads its weights for those few tokens alone.
  const int64_t token_tiles = (n_tokens + detail::kTileTokens - 1) / detail::kTileTokens;
  const auto tile_begin = [&](int64_t tt) { return tt * n_tokens / token_tiles; };
  // Tokens outer, rows inner: a token tile's activations (32 x n_cols floats or quants) stay
  // in L2 while the weights stream past; the other way round every 8-row tile re-read all
  // the tokens' activations (10 MB for 512 tokens of a 5120-column row), which held float
  // prefill to 2/3 of its speed.
  const auto run = [&](const tbb::blocked_range2d<int64_t>& range) {
    for (int64_t tt = range.cols().begin(); tt != range.cols().end(); ++tt)
      for (int64_t rt = range.rows().begin(); rt != range.rows().end(); ++rt) {
        const int64_t r0 = rt * detail::kTileRows, t0 = tile_begin(tt);
        detail::TileJob job;
        job.type = w.type;
        job.w = w.data + uint64_t(r0) * w.row_bytes;
        job.row_bytes = w.row_bytes;
        job.n_cols = w.n_cols;
        job.n_rows = int(std::min<int64_t>(detail::kTileRows, w.n_rows - r0));
        job.act = packed + uint64_t(t0) * packed_stride;
        job.act_stride = packed_stride;
        job.n_tokens = int(tile_begin(tt + 1) - t0);
        job.y = y + t0 * w.n_rows + r0;
        job.y_stride = w.n_rows;
        fn(job);
      }
  };
  const tbb::blocked_range2d<int64_t> all(0, row_tiles, 0, token_tiles);
  if (small_work(w, n_tokens))
    run(all);
  else
    tbb::parallel_for(all, run);
}

// From this many tokens on, the tokens-in-lanes VNNI kernel beats the tiles (a vector holds
// 16 tokens: fewer leave lanes idle).
constexpr int64_t kVnniMinTokens = 8;

// One token: rows in parallel, each read front to back (gemv_avx2.cpp). The Avx512 path adds
// vpdpbusd on 256-bit vectors for Q4_K and Q6_K (1.4-1.6x per core); a 512-bit variant (64
// weights per step, vpermw + vpdpwssd) was 10% faster on one thread but 30% slower on two
// (Zen 4, Scout-shape Q4_K_M decode: 12.4-13.5 vs 17.7-18.0 tokens/s), where the two
// threads share the double-pumped 512-bit units.
// rows(r0, r1) over [0, w.n_rows): in 32-row pieces on the pool, or on the calling thread
// when the work (weight bytes x tokens) is small.
template <class F>
void split_rows(const MatrixView& w, int64_t n_tokens, const F& rows) {
  if (small_work(w, n_tokens)) {
    rows(int64_t(0), w.n_rows);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, w.n_rows, 32),
                    [&](const tbb::blocked_range<int64_t>& r) { rows(r.begin(), r.end()); });
}

void qgemv(Isa isa, const MatrixView& w, const uint8_t* act, float* y) {
  const detail::GemvFn fn = isa == Isa::Avx512 ? detail::gemv_fn_vnni(w.type) : detail::gemv_fn_avx2(w.type);
  split_rows(w, 1, [&](int64_t r0, int64_t r1) { fn(w, act, r0, r1, y); });
}

// 2-4 tokens (an expert's share of a many-sequence decode step): rows in parallel as for one
// token, each row decoded once for all the tokens, instead of the tiles' class-quad decoding.
void qgemv_few(const MatrixView& w, const uint8_t* act, uint64_t act_bytes, int n_tokens, float* y) {
  const detail::FewTokensFn fn = detail::few_tokens_fn_vnni(w.type);
  split_rows(w, n_tokens, [&](int64_t r0, int64_t r1) { fn(w, act, act_bytes, n_tokens, r0, r1, y); });
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Reference: return "reference";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

bool isa_available(Isa isa) {
  switch (isa) {
    case Isa::Reference: return true;
    case Isa::Avx2: return cpu_has_avx2_fma_f16c();
    case Isa::Avx512: return cpu_has_avx512_vnni();
  }
  return false;
}

Isa best_isa() {
  static const Isa isa = pick_isa();
  return isa;
}

bool supported(GgmlType t) {
  switch (t) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q8_0:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K: return true;
    default: return false;
  }
}

std::optional<GgmlType> vec_dot_type(GgmlType t) {
  if (!supported(t)) return std::nullopt;
  switch (t) {
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K: return GgmlType::Q8_K;
    case GgmlType::Q4_1:
    case GgmlType::Q5_1: return GgmlType::Q8_1;
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
    case GgmlType::Q8_0: return GgmlType::Q8_0;
    default: return GgmlType::F32;
  }
}

uint64_t activation_row_bytes(GgmlType weight, int64_t n_cols) {
  require_supported(weight, "activation_row_bytes");
  const auto bytes = quant::row_bytes(*vec_dot_type(weight), n_cols);
  if (!bytes) throw Error("activation_row_bytes: " + std::to_string(n_cols) + " columns are not whole " +
                          quant::type_label(*vec_dot_type(weight)) + " blocks");
  return *bytes;
}

void quantize_activations(GgmlType weight, const float* x, int64_t n_tokens, int64_t n_cols, void* out) {
  quantize_activations(best_isa(), weight, x, n_tokens, n_cols, out);
}

void quantize_activations(Isa isa, GgmlType weight, const float* x, int64_t n_tokens, int64_t n_cols, void* out) {
  require_supported(weight, "quantize_activations");
  require_isa(isa);
  const GgmlType act = *vec_dot_type(weight);
  require_columns(act, n_cols, "quantize_activations");
  const uint64_t bytes = activation_row_bytes(weight, n_cols);
  auto* dst = static_cast<uint8_t*>(out);
  if (act == GgmlType::F32) {
    std::memcpy(dst, x, size_t(n_tokens) * size_t(bytes));
    return;
  }
  const detail::QuantRowFn fast = isa == Isa::Avx512 ? detail::quant_fn_avx512(act)
                                  : isa == Isa::Avx2 ? detail::quant_fn_avx2(act)
                                                     : nullptr;
  // A decode step's row (under 64K values) is quantized in microseconds: not worth the pool.
  for_each_index(n_tokens, n_tokens * n_cols < 64 * 1024, [&](int64_t t) {
    if (fast)
      fast(x + t * n_cols, dst + uint64_t(t) * bytes, n_cols);
    else
      quant::quantize_row(act, x + t * n_cols, dst + uint64_t(t) * bytes, n_cols);
  });
}

float vec_dot_ref(GgmlType weight, const void* w, const void* a, int64_t n_cols) {
  require_supported(weight, "vec_dot_ref");
  require_columns(weight, n_cols, "vec_dot_ref");
  if (detail::family_of(weight) == Family::KQuant || detail::family_of(weight) == Family::Block)
    require_columns(*vec_dot_type(weight), n_cols, "vec_dot_ref");
  return detail::dot_ref(weight, w, a, n_cols);
}

void qgemm(const MatrixView& w, const void* act, int64_t n_tokens, float* y) { qgemm(best_isa(), w, act, n_tokens, y); }

void qgemm(Isa isa, const MatrixView& w, const void* act, int64_t n_tokens, float* y) {
  require_supported(w.type, "qgemm");
  require_isa(isa);
  require_columns(w.type, w.n_cols, "qgemm");
  const uint64_t act_bytes = activation_row_bytes(w.type, w.n_cols);  // also checks the act blocks
  if (w.row_bytes < *quant::row_bytes(w.type, w.n_cols))
    throw Error("qgemm: row_bytes " + std::to_string(w.row_bytes) + " is shorter than a row of " +
                std::to_string(w.n_cols) + " " + quant::type_label(w.type) + " elements");
  if (n_tokens <= 0 || w.n_rows <= 0) return;
  const auto* a = static_cast<const uint8_t*>(act);
  if (isa == Isa::Reference)
    qgemm_reference(w, a, act_bytes, n_tokens, y);
  else if (n_tokens == 1 && detail::gemv_fn_avx2(w.type))
    qgemv(isa, w, a, y);
  else if (isa == Isa::Avx512 && n_tokens <= detail::few_tokens_max(w.type))
    qgemv_few(w, a, act_bytes, int(n_tokens), y);
  else if (isa == Isa::Avx512 && n_tokens >= kVnniMinTokens && detail::vnni_gemm_supports(w.type, w.n_cols))
    detail::vnni_gemm(w, a, act_bytes, n_tokens, y);
  else
    qgemm_tiled(isa, w, a, n_tokens, y);
}

void matmul_quantized(const MatrixView& w, const float* x, int64_t n_tokens, float* y) {
  require_supported(w.type, "matmul_quantized");
  if (n_tokens <= 0) return;
  if (detail::family_of(w.type) == Family::Float) {
    qgemm(w, x, n_tokens, y);
    return;
  }
  const uint64_t bytes = activation_row_bytes(w.type, w.n_cols);
  AlignedBuffer act(size_t(bytes * uint64_t(n_tokens)));
  quantize_activations(w.type, x, n_tokens, w.n_cols, act.data.get());
  qgemm(w, act.data.get(), n_tokens, y);
}

}  // namespace scout::kernels::cpu::qdot
