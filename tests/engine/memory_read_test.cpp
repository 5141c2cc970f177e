// The plain memory read (kernels::cpu::read_sum and its parallel form) against a checksum
// built byte by byte, and the decode read set (what bench-model reads beside each decode run)
// against the GGUF's own tensor table: which tensors, which expert slice, how many bytes.
#include <gtest/gtest.h>

#include <tbb/task_arena.h>

#include <map>
#include <random>
#include <vector>

#include "common/test_paths.h"
#include "engine/gguf/gguf.h"
#include "engine/kernels/cpu/memory_read.h"
#include "engine/model/random_model.h"
#include "engine/model/weights.h"
#include "engine/runtime/engine.h"

namespace scout {
namespace {

using kernels::cpu::ByteSpan;

// The checksum's definition written out: byte i of each whole 8-byte word weighs 2^(8 (i % 8))
// (a little-endian word), each byte after the last whole word weighs 1; all sums wrap.
uint64_t checksum_by_bytes(ByteSpan b) {
  uint64_t s = 0;
  const size_t whole = b.size() - b.size() % 8;
  for (size_t i = 0; i < b.size(); ++i) s += i < whole ? uint64_t(b[i]) << (8 * (i % 8)) : uint64_t(b[i]);
  return s;
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& x : v) x = uint8_t(rng());
  return v;
}

TEST(ReadSum, EveryLengthAndAlignmentMatchesTheByteChecksum) {
  const auto buf = random_bytes(4096, 1);
  for (size_t off = 0; off < 8; ++off)
    for (size_t n = 0; n <= 300; ++n) {
      const ByteSpan s(buf.data() + off, n);
      const uint64_t want = checksum_by_bytes(s);
      ASSERT_EQ(kernels::cpu::read_sum(s), want) << "offset " << off << " length " << n;
      ASSERT_EQ(kernels::cpu::read_sum_reference(s), want) << "offset " << off << " length " << n;
    }
}

TEST(ReadSum, ParallelOverSpansEqualsTheSumOfEachSpan) {
  // Spans longer than one piece, with odd lengths and starts, so pieces end mid-span.
  const auto buf = random_bytes(3 * kernels::cpu::kReadPieceBytes + 4099, 2);
  const std::vector<ByteSpan> spans{ByteSpan(buf.data() + 3, 2 * kernels::cpu::kReadPieceBytes + 1001),
                                    ByteSpan(buf.data() + 5, 17), ByteSpan(buf.data(), 0),
                                    ByteSpan(buf.data() + 1, buf.size() - 1)};
  uint64_t want = 0;
  for (ByteSpan s : spans) want += checksum_by_bytes(s);
  for (int threads : {1, 2}) {
    tbb::task_arena arena(threads);
    EXPECT_EQ(arena.execute([&] { return kernels::cpu::read_sum_parallel(spans); }), want) << threads << " threads";
  }
}

const std::filesystem::path& tiny_scout() {
  static const std::filesystem::path path = [] {
    const auto p = test::scratch_dir("memory-read") / "tiny-scout.gguf";
    model::RandomModelOptions o;
    o.preset = "tiny-scout";
    o.output = p.string();
    model::write_random_model(o);
    return p;
  }();
  return path;
}

// The tensor a span lies in, and the span's offset inside it; fails when it lies in none.
std::pair<const gguf::TensorInfo*, uint64_t> locate(const gguf::File& f, ByteSpan s) {
  for (const auto& t : f.tensors())
    if (s.data() >= t.data && s.data() + s.size() <= t.data + t.n_bytes) return {&t, uint64_t(s.data() - t.data)};
  ADD_FAILURE() << "a span lies in no tensor";
  return {nullptr, 0};
}

TEST(DecodeReadSet, TakesEachUsedTensorWholeAndTheTokensExpertSlice) {
  auto e = runtime::Engine::load(tiny_scout().string());
  const model::Model& m = e->model();
  const gguf::File& f = *m.file;
  const int64_t n_expert = m.hp.n_expert, n_used = m.hp.n_expert_used;
  for (int64_t token = 0; token < n_expert + 1; ++token) {
    std::map<std::string, std::vector<uint64_t>> taken;  // tensor -> offsets of its spans
    uint64_t total = 0;
    for (ByteSpan s : model::decode_read_set(m, token)) {
      const auto [t, off] = locate(f, s);
      if (!t) return;
      total += s.size();
      if (t->name.find("_exps.") != std::string::npos) {
        EXPECT_EQ(s.size(), t->n_bytes / uint64_t(n_expert)) << t->name;
      } else if (t->name == "token_embd.weight") {
        EXPECT_EQ(s.size(), t->n_bytes / uint64_t(t->n_rows())) << "one embedding row";
      } else {
        EXPECT_EQ(s.size(), t->n_bytes) << t->name << " whole";
      }
      taken[t->name].push_back(off);
    }
    EXPECT_EQ(total, model::decode_bytes_per_token(m));
    for (const auto& t : f.tensors()) {
      const bool norm = t.name.find("norm") != std::string::npos || t.name == "rope_freqs.weight";
      EXPECT_EQ(taken.count(t.name), norm ? 0u : 1u) << t.name;
      if (t.name.find("_exps.") == std::string::npos) continue;
      // Experts (token * n_used + k) % n_expert: over n_expert tokens each one is read.
      ASSERT_EQ(taken[t.name].size(), size_t(n_used)) << t.name;
      for (int64_t k = 0; k < n_used; ++k)
        EXPECT_EQ(taken[t.name][size_t(k)], uint64_t((token * n_used + k) % n_expert) * (t.n_bytes / uint64_t(n_expert)))
            << t.name << " token " << token;
    }
  }
}

TEST(DecodeReadSet, EngineReadsTheWholeSetOnItsThreads) {
  runtime::EngineOptions o;
  o.n_threads = 2;
  auto e = runtime::Engine::load(tiny_scout().string(), o);
  for (int64_t token : {0, 5}) {
    uint64_t want = 0;
    for (ByteSpan s : model::decode_read_set(e->model(), token)) want += checksum_by_bytes(s);
    EXPECT_EQ(e->read_decode_weights(token), want) << "token " << token;
  }
}

}  // namespace
}  // namespace scout
