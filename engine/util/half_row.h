#pragma once
// Whole-row fp16 <-> fp32 conversion: F16C when the CPU has it (chosen once at run time),
// the portable bit-exact path otherwise. Both give identical bits.
#include <cstdint>

namespace scout {
void fp16_to_fp32_row(const void* src, float* dst, int64_t n);
// fp32 -> fp16, round to nearest even (fp32_to_fp16's bits; NaNs stay NaN, payloads may differ).
void fp32_to_fp16_row(const float* src, uint16_t* dst, int64_t n);
}  // namespace scout
