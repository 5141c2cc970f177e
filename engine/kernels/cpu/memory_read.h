#pragma once
// Reading memory and nothing else: the ceiling a memory-bound kernel is measured against
// (the roofline probe in bench/, and bench-model's read of the bytes one decoded token needs).
//
// read_sum touches every byte once and returns an exact checksum, the wrapping sum of the
// little-endian 64-bit words followed by each tail byte, so no compiler can drop a read and a
// test can hold the fast path to the plain one bit for bit. The sum does not depend on the
// order of the words, so a span cut into pieces at 8-byte offsets sums to the same value.
#include <cstddef>
#include <cstdint>
#include <span>

namespace scout::kernels::cpu {

using ByteSpan = std::span<const uint8_t>;

uint64_t read_sum(ByteSpan bytes);            // AVX2 when the CPU has it, else the plain loop
uint64_t read_sum_reference(ByteSpan bytes);  // the plain loop the fast one is tested against

// read_sum over several spans, on the threads of the calling TBB arena: every span is cut
// into pieces of kReadPieceBytes (one task's share, long enough for the prefetchers to lock
// on) and the pieces' sums are added.
constexpr size_t kReadPieceBytes = size_t(1) << 18;
uint64_t read_sum_parallel(std::span<const ByteSpan> spans);

}  // namespace scout::kernels::cpu
