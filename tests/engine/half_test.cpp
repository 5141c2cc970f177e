// engine/util/half.h against numpy (fixtures from scripts/make_quant_fixture.py) and, for NaNs
// where numpy and ggml differ, against ggml's scalar conversions:
//   fp16 -> fp32: NaN payload kept, quiet bit set (ggml_compute_fp16_to_fp32 multiplies by
//                 2^-112, which quiets signalling NaNs; F16C/NEON conversions do too);
//   fp32 -> fp16: any NaN becomes sign | 0x7e00 (ggml_compute_fp32_to_fp16).
#include "engine/util/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "common/test_paths.h"

namespace scout {
namespace {

// One SQF1 fixture (tests/data/quant/README.md): raw 16-bit values and their float32 side.
struct HalfFixture {
  std::vector<uint16_t> halves;
  std::vector<float> floats;
};

HalfFixture load_half_fixture(const std::string& name) {
  const auto path = test::source_dir() / "tests" / "data" / "quant" / name;
  std::ifstream in(path, std::ios::binary);
  char magic[4];
  uint32_t header[3];  // type id, element count, byte count
  in.read(magic, 4);
  in.read(reinterpret_cast<char*>(header), sizeof(header));
  if (!in || std::memcmp(magic, "SQF1", 4) != 0 || header[2] != 2 * header[1])
    throw std::runtime_error("missing or bad fixture " + path.string());
  HalfFixture f;
  f.halves.resize(header[1]);
  f.floats.resize(header[1]);
  in.read(reinterpret_cast<char*>(f.halves.data()), static_cast<std::streamsize>(header[2]));
  in.read(reinterpret_cast<char*>(f.floats.data()),
          static_cast<std::streamsize>(4 * f.floats.size()));
  if (!in) throw std::runtime_error("truncated fixture " + name);
  return f;
}

bool half_is_nan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0; }

TEST(HalfFp16ToFp32, AllHalvesMatchNumpyWithGgmlNaNs) {
  const HalfFixture f = load_half_fixture("dequant_f16.bin");
  ASSERT_EQ(f.halves.size(), 65536u);
  for (uint32_t i = 0; i < 65536; ++i) {
    const uint16_t h = f.halves[i];
    ASSERT_EQ(h, i);
    uint32_t want = float_to_bits(f.floats[i]);
    if (half_is_nan(h)) want |= 0x00400000u;  // ggml quiets; numpy keeps signalling NaNs
    ASSERT_EQ(float_to_bits(fp16_to_fp32(h)), want) << "half 0x" << std::hex << h;
  }
}

TEST(HalfFp16ToFp32, RoundTripsThroughFp32ToFp16) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const uint16_t want = half_is_nan(h) ? static_cast<uint16_t>((h & 0x8000) | 0x7e00) : h;
    ASSERT_EQ(fp32_to_fp16(fp16_to_fp32(h)), want) << "half 0x" << std::hex << h;
  }
}

TEST(HalfFp32ToFp16, EdgeAndRandomFloatsMatchNumpyWithGgmlNaNs) {
  const HalfFixture f = load_half_fixture("quant_f16.bin");
  ASSERT_GT(f.floats.size(), 4000u);
  int nans = 0;
  for (size_t i = 0; i < f.floats.size(); ++i) {
    const float x = f.floats[i];
    uint16_t want = f.halves[i];
    if (std::isnan(x)) {
      ASSERT_TRUE(half_is_nan(want));  // numpy agrees that it is a NaN
      want = static_cast<uint16_t>((float_to_bits(x) >> 16 & 0x8000) | 0x7e00);
      ++nans;
    }
    ASSERT_EQ(fp32_to_fp16(x), want) << "float bits 0x" << std::hex << float_to_bits(x);
  }
  EXPECT_GT(nans, 5);
}

TEST(HalfFp32ToBf16, EdgeAndRandomFloatsMatchGgufPy) {
  const HalfFixture f = load_half_fixture("quant_bf16.bin");
  ASSERT_GT(f.floats.size(), 4000u);
  for (size_t i = 0; i < f.floats.size(); ++i)
    ASSERT_EQ(fp32_to_bf16(f.floats[i]), f.halves[i])
        << "float bits 0x" << std::hex << float_to_bits(f.floats[i]);
}

TEST(HalfBf16ToFp32, RandomPatternsMatchGgufPy) {
  const HalfFixture f = load_half_fixture("dequant_bf16.bin");
  for (size_t i = 0; i < f.halves.size(); ++i)
    ASSERT_EQ(float_to_bits(bf16_to_fp32(f.halves[i])), float_to_bits(f.floats[i]));
}

}  // namespace
}  // namespace scout
