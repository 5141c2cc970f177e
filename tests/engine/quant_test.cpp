// Block layouts, dequantization and quantization against independent references: the
// fixtures in tests/data/quant (gguf-py and numpy; for the K-quant quantizers, which gguf-py
// lacks, ggml's own reference C; see its README), plus properties ggml's algorithms guarantee.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/test_paths.h"
#include "engine/quant/blocks.h"
#include "engine/quant/dequantize.h"
#include "engine/quant/quantize.h"
#include "engine/quant/types.h"
#include "engine/util/error.h"
#include "engine/util/half.h"

namespace scout::quant {
namespace {

using T = GgmlType;

// ------------------------------------------------------------------ fixture reading

struct Fixture {
  uint32_t type_id = 0;
  std::vector<uint8_t> blocks;
  std::vector<float> values;
};

// Reads one SQF1 file (format in tests/data/quant/README.md).
Fixture load_fixture(const std::string& name) {
  const auto path = test::source_dir() / "tests" / "data" / "quant" / name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + path.string());
  char magic[4];
  uint32_t header[3];
  in.read(magic, 4);
  in.read(reinterpret_cast<char*>(header), sizeof(header));
  if (!in || std::memcmp(magic, "SQF1", 4) != 0) throw std::runtime_error("bad fixture " + name);
  Fixture f;
  f.type_id = header[0];
  f.values.resize(header[1]);
  f.blocks.resize(header[2]);
  in.read(reinterpret_cast<char*>(f.blocks.data()), static_cast<std::streamsize>(f.blocks.size()));
  in.read(reinterpret_cast<char*>(f.values.data()),
          static_cast<std::streamsize>(f.values.size() * 4));
  if (!in) throw std::runtime_error("truncated fixture " + name);
  return f;
}

std::string lower_name(GgmlType t) {
  std::string s(traits(t).name);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Bitwise equal, except that any two NaNs match: NaN payloads legitimately differ between
// numpy and ggml (half_test pins ggml's exact NaN bits).
bool same_float(float a, float b) {
  return float_to_bits(a) == float_to_bits(b) || (std::isnan(a) && std::isnan(b));
}

// Index of the first element that differs, or -1.
int64_t first_float_mismatch(const std::vector<float>& got, const std::vector<float>& want) {
  for (size_t i = 0; i < want.size(); ++i)
    if (!same_float(got[i], want[i])) return static_cast<int64_t>(i);
  return -1;
}

std::string type_param_name(const testing::TestParamInfo<GgmlType>& info) {
  return lower_name(info.param);
}

// ------------------------------------------------------------------ block layouts

template <class Block>
void expect_layout(GgmlType t) {
  SCOPED_TRACE(std::string(traits(t).name));
  EXPECT_EQ(static_cast<int64_t>(sizeof(Block)), traits(t).type_size);
  EXPECT_EQ(Block::kElems, traits(t).block_size);
}

TEST(QuantBlocks, SizesMatchTheTypeTable) {
  expect_layout<BlockQ4_0>(T::Q4_0);
  expect_layout<BlockQ4_1>(T::Q4_1);
  expect_layout<BlockQ5_0>(T::Q5_0);
  expect_layout<BlockQ5_1>(T::Q5_1);
  expect_layout<BlockQ8_0>(T::Q8_0);
  expect_layout<BlockQ8_1>(T::Q8_1);
  expect_layout<BlockQ4_K>(T::Q4_K);
  expect_layout<BlockQ5_K>(T::Q5_K);
  expect_layout<BlockQ6_K>(T::Q6_K);
  expect_layout<BlockQ8_K>(T::Q8_K);
}

TEST(QuantBlocks, FieldOffsetsAreGgmls) {
  // The scale fields are where gguf-py's (and ggml's) readers look for them.
  EXPECT_EQ(offsetof(BlockQ5_0, qs), 6u);
  EXPECT_EQ(offsetof(BlockQ5_1, qh), 4u);
  EXPECT_EQ(offsetof(BlockQ4_K, qs), 16u);
  EXPECT_EQ(offsetof(BlockQ5_K, qh), 16u);
  EXPECT_EQ(offsetof(BlockQ5_K, qs), 48u);
  EXPECT_EQ(offsetof(BlockQ6_K, scales), 192u);
  EXPECT_EQ(offsetof(BlockQ6_K, d), 208u);
  EXPECT_EQ(offsetof(BlockQ8_K, bsums), 260u);
}

// ------------------------------------------------------------------ dequantization

class QuantDequantize : public testing::TestWithParam<GgmlType> {};

TEST_P(QuantDequantize, MatchesGgufPyBitForBit) {
  const GgmlType t = GetParam();
  const Fixture f = load_fixture("dequant_" + lower_name(t) + ".bin");
  ASSERT_EQ(f.type_id, static_cast<uint32_t>(t));
  ASSERT_TRUE(can_dequantize(t));
  const auto n = static_cast<int64_t>(f.values.size());
  ASSERT_EQ(row_bytes(t, n), f.blocks.size());
  std::vector<float> got(f.values.size());
  dequantize_row(t, f.blocks.data(), got.data(), n);
  const int64_t bad = first_float_mismatch(got, f.values);
  EXPECT_EQ(bad, -1) << "element " << bad << " (block " << bad / traits(t).block_size
                     << "): got bits " << std::hex << float_to_bits(got[bad]) << ", want "
                     << float_to_bits(f.values[bad]);
}

TEST_P(QuantDequantize, NeedsNoAlignment) {
  const GgmlType t = GetParam();
  const Fixture f = load_fixture("dequant_" + lower_name(t) + ".bin");
  std::vector<uint8_t> shifted(f.blocks.size() + 1);
  std::memcpy(shifted.data() + 1, f.blocks.data(), f.blocks.size());
  std::vector<float> got(f.values.size());
  dequantize_row(t, shifted.data() + 1, got.data(), static_cast<int64_t>(got.size()));
  EXPECT_EQ(first_float_mismatch(got, f.values), -1);
}

INSTANTIATE_TEST_SUITE_P(Quant, QuantDequantize,
                         testing::Values(T::F32, T::F16, T::BF16, T::Q4_0, T::Q4_1, T::Q5_0,
                                         T::Q5_1, T::Q8_0, T::Q4_K, T::Q5_K, T::Q6_K, T::Q8_K),
                         type_param_name);

TEST(QuantDequantize, RejectsUnsupportedTypesAndPartialBlocks) {
  std::vector<uint8_t> src(1024);
  std::vector<float> dst(512);
  EXPECT_FALSE(can_dequantize(T::Q2_K));
  EXPECT_THROW(dequantize_row(T::Q2_K, src.data(), dst.data(), 256), Error);
  EXPECT_THROW(dequantize_row(T::Q8_1, src.data(), dst.data(), 32), Error);
  EXPECT_THROW(dequantize_row(static_cast<GgmlType>(99), src.data(), dst.data(), 32), Error);
  EXPECT_THROW(dequantize_row(T::Q4_0, src.data(), dst.data(), 31), Error);
  EXPECT_THROW(dequantize_row(T::Q4_K, src.data(), dst.data(), 128), Error);
  EXPECT_THROW(dequantize_row(T::Q4_0, src.data(), dst.data(), -32), Error);
  EXPECT_NO_THROW(dequantize_row(T::Q4_0, src.data(), dst.data(), 0));
}

// ------------------------------------------------------------------ quantization vs gguf-py

class QuantQuantize : public testing::TestWithParam<GgmlType> {};

// gguf-py's bytes, or ggml's reference C's for the K-quants.
TEST_P(QuantQuantize, MatchesReferenceByteForByte) {
  const GgmlType t = GetParam();
  const Fixture f = load_fixture("quant_" + lower_name(t) + ".bin");
  ASSERT_EQ(f.type_id, static_cast<uint32_t>(t));
  ASSERT_TRUE(can_quantize(t));
  const auto n = static_cast<int64_t>(f.values.size());
  ASSERT_EQ(row_bytes(t, n), f.blocks.size());
  std::vector<uint8_t> got(f.blocks.size() + 1);
  quantize_row(t, f.values.data(), got.data() + 1, n);  // odd address: no alignment needed
  const int64_t type_size = traits(t).type_size;
  for (size_t i = 0; i < f.blocks.size(); ++i) {
    if (got[i + 1] == f.blocks[i]) continue;
    const int64_t block = static_cast<int64_t>(i) / type_size;
    FAIL() << "block " << block << " byte " << i % type_size << ": got " << int(got[i + 1])
           << ", want " << int(f.blocks[i]) << " (first input "
           << f.values[block * traits(t).block_size] << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(Quant, QuantQuantize,
                         testing::Values(T::Q4_0, T::Q4_1, T::Q5_0, T::Q5_1, T::Q8_0, T::Q8_1,
                                         T::Q4_K, T::Q5_K, T::Q6_K, T::Q8_K, T::BF16),
                         type_param_name);

// numpy's float16 cast is the reference except for NaN inputs, where ggml (and we) return the
// canonical quiet NaN sign | 0x7e00 and numpy keeps payload bits.
TEST(QuantQuantize, F16MatchesNumpyAndGgmlNaNs) {
  const Fixture f = load_fixture("quant_f16.bin");
  const auto n = static_cast<int64_t>(f.values.size());
  std::vector<uint16_t> got(f.values.size());
  quantize_row(T::F16, f.values.data(), got.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t want;
    std::memcpy(&want, f.blocks.data() + 2 * i, 2);
    if (std::isnan(f.values[i])) want = static_cast<uint16_t>((want & 0x8000) | 0x7e00);
    ASSERT_EQ(got[i], want) << "input bits " << std::hex << float_to_bits(f.values[i]);
  }
}

// The one block where gguf-py and ggml disagree (so it is not in the fixture): all -0.0.
// ggml's Q4_0/Q5_0 start from max = +0.0f and no |v| exceeds 0, so d = +0.0f / -8 = -0.0f
// (half 0x8000); with d == 0 the inverse scale is 0 and every element takes the middle level.
TEST(QuantQuantize, NegativeZeroBlockFollowsGgml) {
  const std::vector<float> x(32, -0.0f);
  BlockQ4_0 q4;
  quantize_row(T::Q4_0, x.data(), &q4, 32);
  EXPECT_EQ(q4.d, 0x8000);
  for (uint8_t b : q4.qs) EXPECT_EQ(b, 0x88);
  BlockQ5_0 q5;
  quantize_row(T::Q5_0, x.data(), &q5, 32);
  EXPECT_EQ(q5.d, 0x8000);
  for (uint8_t b : q5.qh) EXPECT_EQ(b, 0xFF);  // level 16: high bit set everywhere
  for (uint8_t b : q5.qs) EXPECT_EQ(b, 0x00);
}

TEST(QuantQuantize, F32IsACopy) {
  const Fixture f = load_fixture("dequant_f32.bin");  // random bit patterns, NaNs included
  std::vector<uint8_t> got(f.blocks.size());
  quantize_row(T::F32, f.values.data(), got.data(), static_cast<int64_t>(f.values.size()));
  EXPECT_EQ(got, f.blocks);
}

TEST(QuantQuantize, RejectsUnsupportedTypesAndPartialBlocks) {
  std::vector<float> src(512, 1.0f);
  std::vector<uint8_t> dst(2048);
  EXPECT_FALSE(can_quantize(T::Q3_K));
  EXPECT_THROW(quantize_row(T::Q3_K, src.data(), dst.data(), 256), Error);
  EXPECT_THROW(quantize_row(T::IQ4_NL, src.data(), dst.data(), 32), Error);
  EXPECT_THROW(quantize_row(T::Q8_0, src.data(), dst.data(), 48), Error);
  EXPECT_THROW(quantize_row(T::Q6_K, src.data(), dst.data(), 32), Error);
  EXPECT_THROW(quantize_row(T::Q8_0, src.data(), dst.data(), -32), Error);
}

// ------------------------------------------------------------------ idempotence (32-blocks)

// Q8_0, Q4_0 and Q5_0 map a block's largest-magnitude element exactly onto the end of the
// grid, so re-quantizing a dequantized block recovers the same scale (amax/127, or the max over
// -8 / -16, lands on the stored half d) and then every element sits on an integer level:
// quantize(dequantize(q)) == q whenever d is a normal half. (Q4_1/Q5_1 need not: max - min is
// rounded again.) Checked on the gguf-py blocks of the quantization fixture.
class QuantIdempotent : public testing::TestWithParam<GgmlType> {};

TEST_P(QuantIdempotent, RequantizingDequantizedBlocksIsExact) {
  const GgmlType t = GetParam();
  const Fixture f = load_fixture("quant_" + lower_name(t) + ".bin");
  const int64_t bs = traits(t).block_size, ts = traits(t).type_size;
  int checked = 0;
  for (size_t off = 0; off < f.blocks.size(); off += static_cast<size_t>(ts)) {
    uint16_t d;
    std::memcpy(&d, f.blocks.data() + off, 2);
    const float df = std::fabs(fp16_to_fp32(d));
    if (!(df >= 6.103515625e-05f && std::isfinite(df))) continue;  // normal halves only
    std::vector<float> x(static_cast<size_t>(bs));
    std::vector<uint8_t> again(static_cast<size_t>(ts));
    dequantize_row(t, f.blocks.data() + off, x.data(), bs);
    quantize_row(t, x.data(), again.data(), bs);
    EXPECT_EQ(0, std::memcmp(again.data(), f.blocks.data() + off, static_cast<size_t>(ts)))
        << "block " << off / static_cast<size_t>(ts);
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

INSTANTIATE_TEST_SUITE_P(Quant, QuantIdempotent, testing::Values(T::Q8_0, T::Q4_0, T::Q5_0),
                         type_param_name);

// ------------------------------------------------------------------ K-quants: properties

// Rows of several shapes, deterministic: Gaussian (weights), Gaussian with an offset, uniform,
// Laplace (heavy tails) and Gaussian with rare 20x outliers.
std::vector<std::vector<float>> kquant_rows() {
  constexpr int kN = 256 * 32;
  std::mt19937 rng(1234);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::uniform_real_distribution<float> unif(-1.0f, 1.0f);
  std::exponential_distribution<float> expo(1.0f);
  std::vector<std::vector<float>> rows(5, std::vector<float>(kN));
  for (int i = 0; i < kN; ++i) {
    rows[0][i] = 0.02f * gauss(rng);
    rows[1][i] = 3.0f + gauss(rng);
    rows[2][i] = 5.0f * unif(rng);
    rows[3][i] = (unif(rng) < 0 ? -1.0f : 1.0f) * expo(rng);
    rows[4][i] = gauss(rng) * (rng() % 100 == 0 ? 20.0f : 1.0f);
  }
  return rows;
}

std::vector<float> round_trip(GgmlType t, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(*row_bytes(t, n));
  std::vector<float> y(x.size());
  quantize_row(t, x.data(), q.data(), n);
  dequantize_row(t, q.data(), y.data(), n);
  return y;
}

// RMS error relative to the row's RMS.
double relative_rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double err = 0, sq = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    sq += double(x[i]) * x[i];
  }
  return std::sqrt(err / sq);
}

// Bounds. Uniform quantization with step s has RMS error s / sqrt(12). For Gaussian data
// (sigma = row RMS) a sub-block's step is its range over the number of steps: 32 samples span
// ~4.1 sigma (Q4_K, Q5_K: affine grids of 15 and 31 steps); for the symmetric grids the step
// is amax / 32 with amax of 16 samples ~2.0 sigma (Q6_K) and amax / 127 with amax of 256
// samples ~2.9 sigma (Q8_K):
//   Q4_K: 4.1/15/sqrt(12) = 0.079   Q5_K: 4.1/31/sqrt(12) = 0.038
//   Q6_K: 2.0/32/sqrt(12) = 0.018   Q8_K: 2.9/127/sqrt(12) = 0.0066
// The least-squares fits do a little better, the 6/8-bit scale rounding a little worse; the
// bound is 1.5x the estimate. Offset rows cost no more (the affine grids absorb the offset;
// for the symmetric ones amax ~5.9 sigma meets an RMS of ~3.2 sigma), nor do uniform rows
// (range ~3.3 RMS over 32). Laplace tails widen the ranges, most for Q8_K's amax of 256
// (~4.8 against 2.9 RMS): 1.7x more. Gaussian rows with rare outliers are left out here; their
// error depends on where the outliers fall (the nearest-level tests cover them). A misplaced
// nibble or wrong scale gives errors of order 1, far above any of these.
struct KEstimate {
  GgmlType type;
  double gaussian_rel_rmse;
};
constexpr KEstimate kKEstimates[] = {
    {T::Q4_K, 0.079}, {T::Q5_K, 0.038}, {T::Q6_K, 0.018}, {T::Q8_K, 0.0066}};
constexpr double kBoundOverEstimate = 1.5;
constexpr double kLaplaceFactor = 1.7;
constexpr size_t kLaplaceRow = 3, kOutlierRow = 4;

TEST(QuantKQuants, RoundTripErrorIsWithinTheQuantizationNoise) {
  const auto rows = kquant_rows();
  for (const KEstimate& k : kKEstimates) {
    for (size_t r = 0; r < rows.size(); ++r) {
      if (r == kOutlierRow) continue;
      const double bound =
          k.gaussian_rel_rmse * kBoundOverEstimate * (r == kLaplaceRow ? kLaplaceFactor : 1.0);
      const double e = relative_rmse(rows[r], round_trip(k.type, rows[r]));
      EXPECT_LT(e, bound) << traits(k.type).name << " row shape " << r;
      EXPECT_GT(e, 0.0) << traits(k.type).name << " row shape " << r;
    }
  }
}

TEST(QuantKQuants, ZeroRowsGiveZeroBlocks) {
  for (GgmlType t : {T::Q4_K, T::Q5_K, T::Q6_K, T::Q8_K}) {
    std::vector<float> x(512, 0.0f);
    std::vector<uint8_t> q(*row_bytes(t, 512), 0xAB);
    quantize_row(t, x.data(), q.data(), 512);
    for (uint8_t byte : q) ASSERT_EQ(byte, 0) << traits(t).name;
  }
}

// After choosing the scales, ggml re-rounds every element to its nearest level of the stored
// grid (levels lo..hi, value = a * l + b). So no neighbouring level can be closer to x than the
// one chosen, unless the sub-block's step is 0. `tol` absorbs the roundings of (x + dm) / d.
struct Grid {
  float a, b;
  int lo, hi;
};

void expect_nearest_level(const float* x, const float* y, int n, const Grid& g, const char* what) {
  if (g.a == 0.0f) return;
  for (int i = 0; i < n; ++i) {
    const int l = static_cast<int>(std::lround((y[i] - g.b) / g.a));
    ASSERT_GE(l, g.lo) << what;
    ASSERT_LE(l, g.hi) << what;
    const float tol = 1e-5f * (std::fabs(x[i]) + std::fabs(g.b) + std::fabs(g.a) * g.hi);
    const float here = std::fabs(x[i] - y[i]);
    if (l < g.hi) EXPECT_LE(here, std::fabs(x[i] - (y[i] + g.a)) + tol) << what << " element " << i;
    if (l > g.lo) EXPECT_LE(here, std::fabs(x[i] - (y[i] - g.a)) + tol) << what << " element " << i;
  }
}

template <class Block>
void check_k4_nearest(GgmlType t, const std::vector<float>& x, int nmax) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<Block> q(static_cast<size_t>(n / kQK_K));
  std::vector<float> y(x.size());
  quantize_row(t, x.data(), q.data(), n);
  dequantize_row(t, q.data(), y.data(), n);
  for (size_t ib = 0; ib < q.size(); ++ib) {
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      unpack_scale_min_k4(j, q[ib].scales, sc, m);
      const Grid g{fp16_to_fp32(q[ib].d) * sc, -(fp16_to_fp32(q[ib].dmin) * m), 0, nmax};
      const size_t at = ib * kQK_K + 32 * static_cast<size_t>(j);
      expect_nearest_level(x.data() + at, y.data() + at, 32, g, traits(t).name.data());
    }
  }
}

TEST(QuantKQuants, Q4KAndQ5KPickTheNearestLevel) {
  for (const auto& x : kquant_rows()) {
    check_k4_nearest<BlockQ4_K>(T::Q4_K, x, 15);
    check_k4_nearest<BlockQ5_K>(T::Q5_K, x, 31);
  }
}

TEST(QuantKQuants, Q6KPicksTheNearestLevel) {
  for (const auto& x : kquant_rows()) {
    const auto n = static_cast<int64_t>(x.size());
    std::vector<BlockQ6_K> q(static_cast<size_t>(n / kQK_K));
    std::vector<float> y(x.size());
    quantize_row(T::Q6_K, x.data(), q.data(), n);
    dequantize_row(T::Q6_K, q.data(), y.data(), n);
    for (size_t ib = 0; ib < q.size(); ++ib)
      for (int j = 0; j < 16; ++j) {
        const size_t at = ib * kQK_K + 16 * static_cast<size_t>(j);
        const Grid g{fp16_to_fp32(q[ib].d) * q[ib].scales[j], 0.0f, -32, 31};
        expect_nearest_level(x.data() + at, y.data() + at, 16, g, "q6_K");
      }
  }
}

// Q8_K: the largest-magnitude element maps to -127 exactly, every element is within half a
// step of its value, and bsums are the sums of each 16 quants.
TEST(QuantKQuants, Q8KIsRoundToNearestWithExactBlockSums) {
  for (const auto& x : kquant_rows()) {
    const auto n = static_cast<int64_t>(x.size());
    std::vector<BlockQ8_K> q(static_cast<size_t>(n / kQK_K));
    std::vector<float> y(x.size());
    quantize_row(T::Q8_K, x.data(), q.data(), n);
    dequantize_row(T::Q8_K, q.data(), y.data(), n);
    for (size_t ib = 0; ib < q.size(); ++ib) {
      int min_q = 127;
      for (int k = 0; k < kQK_K; ++k) min_q = std::min<int>(min_q, q[ib].qs[k]);
      EXPECT_EQ(min_q, -127);
      for (int s = 0; s < kQK_K / 16; ++s) {
        int sum = 0;
        for (int k = 0; k < 16; ++k) sum += q[ib].qs[16 * s + k];
        EXPECT_EQ(q[ib].bsums[s], sum);
      }
      const Grid g{q[ib].d, 0.0f, -128, 127};
      expect_nearest_level(x.data() + ib * kQK_K, y.data() + ib * kQK_K, kQK_K, g, "q8_K");
    }
  }
}

}  // namespace
}  // namespace scout::quant
