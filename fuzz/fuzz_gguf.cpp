// libFuzzer target: any byte string either parses into a consistent File or raises
// FormatError; never a crash, a sanitizer report or a huge allocation.
#include <cstddef>
#include <cstdint>

#include "engine/gguf/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto f = scout::gguf::File::parse(data, size, "fuzz-input");
    for (const auto& t : f->tensors()) {
      // Touch the first and last byte of every tensor: must lie inside the buffer.
      volatile uint8_t first = t.n_bytes ? t.data[0] : 0;
      volatile uint8_t last = t.n_bytes ? t.data[t.n_bytes - 1] : 0;
      (void)first;
      (void)last;
    }
  } catch (const scout::gguf::FormatError&) {
  }
  return 0;
}
