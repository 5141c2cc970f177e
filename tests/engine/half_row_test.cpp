// The dispatched row conversion (F16C here when the CPU has it) gives the same bits as the
// portable scalar conversion for every half, from aligned and odd addresses.
#include <gtest/gtest.h>

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
