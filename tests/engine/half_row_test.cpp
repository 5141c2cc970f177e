// The dispatched row conversion (F16C here when the CPU has it) gives the same bits as the
// portable scalar conversion for every half, from aligned and odd addresses.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "engine/util/half.h"
#include "engine/util/half_row.h"

TEST(HalfRow, EveryHalfMatchesTheScalarConversion) {
  std::vector<uint8_t> bytes(2 * 65536 + 1);
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t v = uint16_t(h);
    std::memcpy(bytes.data() + 1 + 2 * h, &v, 2);  // odd address: the unaligned path
  }
  for (size_t offset : {size_t(1), size_t(0)}) {
    std::vector<uint16_t> aligned(65536);
    std::memcpy(aligned.data(), bytes.data() + 1, 2 * 65536);
    const void* src = offset ? static_cast<const void*>(bytes.data() + 1) : aligned.data();
    std::vector<float> got(65536 + 3);
    scout::fp16_to_fp32_row(src, got.data(), 65536 - 3);  // a length that leaves a tail
    for (uint32_t h = 0; h + 3 < 65536; ++h)
      ASSERT_EQ(scout::float_to_bits(got[h]), scout::float_to_bits(scout::fp16_to_fp32(uint16_t(h))))
          << "half 0x" << std::hex << h << " offset " << offset;
  }
}

// fp32 -> fp16: every float whose top 16 bits are a given pattern, with low bits that make
// exact ties, just-above and just-below ties, and arbitrary tails: all rounding cases,
// subnormal halves, overflow to infinity. NaNs only need to stay NaN (payloads may differ).
TEST(HalfRow, FloatToHalfMatchesTheScalarConversion) {
  std::vector<float> src;
  for (uint32_t hi = 0; hi < 65536; ++hi)
    for (uint32_t lo : {0x0000u, 0x0fffu, 0x1000u, 0x1001u, 0x2000u, 0x3000u, 0xffffu, 0x8765u})
      src.push_back(scout::bits_to_float(hi << 16 | lo));
  std::vector<uint16_t> got(src.size());
  scout::fp32_to_fp16_row(src.data(), got.data(), int64_t(src.size()) - 5);  // leaves a tail
  for (size_t i = 0; i + 5 < src.size(); ++i) {
    const uint16_t want = scout::fp32_to_fp16(src[i]);
    if (std::isnan(src[i])) {
      EXPECT_TRUE((got[i] & 0x7c00) == 0x7c00 && (got[i] & 0x3ff)) << i;
      continue;
    }
    ASSERT_EQ(got[i], want) << "float bits 0x" << std::hex << scout::float_to_bits(src[i]);
  }
}
