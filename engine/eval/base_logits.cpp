#include "engine/eval/base_logits.h"

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "engine/eval/kl_divergence.h"
#include "engine/util/error.h"

namespace scout::eval {

static_assert(std::endian::native == std::endian::little, "the base-logits file is little-endian");

namespace {

constexpr char kMagic[8] = {'_', 'l', 'o', 'g', 'i', 't', 's', '_'};
constexpr size_t kFixedHeader = sizeof(kMagic) + 3 * sizeof(int32_t);

template <typename T>
void write_raw(std::ofstream& out, const T* data, size_t n) {
  out.write(reinterpret_cast<const char*>(data), std::streamsize(n * sizeof(T)));
}

template <typename T>
bool read_raw(std::ifstream& in, T* data, size_t n) {
  return bool(in.read(reinterpret_cast<char*>(data), std::streamsize(n * sizeof(T))));
}

int32_t checked_i32(int64_t v, const char* what) {
  if (v <= 0 || v > INT32_MAX) throw Error(fmt::format("base logits: {} {} out of range", what, v));
  return int32_t(v);
}

}  // namespace

size_t BaseLogitsHeader::chunk_words() const { return size_t(scored_per_chunk(n_ctx)) * packed_row_words(n_vocab); }

BaseLogitsWriter::BaseLogitsWriter(std::string path, const BaseLogitsHeader& h)
    : path_(std::move(path)), tmp_(path_ + ".tmp"), chunk_words_(h.chunk_words()), chunks_left_(h.n_chunk) {
  if (int64_t(h.tokens.size()) != h.n_chunk * h.n_ctx)
    throw Error(fmt::format("base logits: {} tokens for {} chunks of {}", h.tokens.size(), h.n_chunk, h.n_ctx));
  const int32_t fields[3] = {checked_i32(h.n_ctx, "n_ctx"), checked_i32(h.n_vocab, "n_vocab"),
                             checked_i32(h.n_chunk, "n_chunk")};
  out_.open(tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) throw Error("cannot create " + tmp_);
  write_raw(out_, kMagic, sizeof(kMagic));
  write_raw(out_, fields, 3);
  write_raw(out_, h.tokens.data(), h.tokens.size());
  if (!out_) throw Error("cannot write " + tmp_);
}

BaseLogitsWriter::~BaseLogitsWriter() {
  if (finished_) return;
  out_.close();
  std::error_code ec;
  std::filesystem::remove(tmp_, ec);  // best effort: an error is already on its way
}

void BaseLogitsWriter::write_chunk(std::span<const uint16_t> rows) {
  if (rows.size() != chunk_words_) throw Error(fmt::format("base logits: chunk of {} words, expected {}", rows.size(), chunk_words_));
  if (chunks_left_ <= 0) throw Error("base logits: more chunks than the header says");
  write_raw(out_, rows.data(), rows.size());
  if (!out_) throw Error("cannot write " + tmp_ + " (disk full?)");
  --chunks_left_;
}

void BaseLogitsWriter::finish() {
  if (chunks_left_ != 0) throw Error(fmt::format("base logits: {} chunks missing in {}", chunks_left_, tmp_));
  out_.close();
  if (!out_) throw Error("cannot write " + tmp_);
  std::error_code ec;
  std::filesystem::rename(tmp_, path_, ec);
  if (ec) throw Error(fmt::format("cannot rename {} to {}: {}", tmp_, path_, ec.message()));
  finished_ = true;
}

BaseLogitsReader::BaseLogitsReader(std::string path) : path_(std::move(path)) {
  in_.open(path_, std::ios::binary);
  if (!in_) throw Error("cannot open base logits " + path_);
  char magic[8];
  int32_t fields[3];
  if (!read_raw(in_, magic, 8) || std::memcmp(magic, kMagic, 8) != 0)
    throw Error(path_ + ": not a base-logits file (no \"_logits_\" magic; written by --save-base or llama-perplexity --kl-divergence-base)");
  if (!read_raw(in_, fields, 3)) throw Error(path_ + ": truncated header");
  header_.n_ctx = fields[0];
  header_.n_vocab = fields[1];
  header_.n_chunk = fields[2];
  if (header_.n_ctx < 2 || header_.n_vocab < 1 || header_.n_chunk < 1)
    throw Error(fmt::format("{}: bad header (n_ctx {}, n_vocab {}, n_chunk {})", path_, header_.n_ctx, header_.n_vocab,
                            header_.n_chunk));
  const uint64_t n_tokens = uint64_t(header_.n_chunk) * uint64_t(header_.n_ctx);
  const uint64_t expect = kFixedHeader + n_tokens * 4 + uint64_t(header_.n_chunk) * header_.chunk_words() * 2;
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path_, ec);
  if (ec || size != expect)
    throw Error(fmt::format("{}: {} bytes, but n_ctx {}, n_vocab {}, n_chunk {} need {} (truncated or not a base-logits file)",
                            path_, ec ? 0 : size, header_.n_ctx, header_.n_vocab, header_.n_chunk, expect));
  header_.tokens.resize(n_tokens);
  if (!read_raw(in_, header_.tokens.data(), n_tokens)) throw Error(path_ + ": truncated token list");
  for (int32_t t : header_.tokens)
    if (t < 0 || t >= header_.n_vocab) throw Error(fmt::format("{}: token {} outside the vocabulary of {}", path_, t, header_.n_vocab));
}

void BaseLogitsReader::read_chunk(std::vector<uint16_t>& rows) {
  if (next_chunk_ >= header_.n_chunk) throw Error(path_ + ": read past the last chunk");
  rows.resize(header_.chunk_words());
  if (!read_raw(in_, rows.data(), rows.size())) throw Error(fmt::format("{}: cannot read chunk {}", path_, next_chunk_));
  ++next_chunk_;
}

}  // namespace scout::eval
