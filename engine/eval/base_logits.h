#pragma once
// The base-model log-probability file of llama-perplexity (--kl-divergence-base), read and
// written byte for byte, so a file saved by either tool can be used by the other:
//
//   char[8]  "_logits_"
//   int32    n_ctx
//   int32    n_vocab
//   int32    n_chunk
//   int32    tokens[n_chunk * n_ctx]     the text's tokens (first of each chunk NOT replaced by BOS)
//   then per chunk, per scored position (n_ctx - 1 - n_ctx/2 of them), one packed row of
//   packed_row_words(n_vocab) uint16 (see kl_divergence.h)
//
// All little-endian. The writer goes to PATH.tmp and renames on finish(), so a file at PATH
// is always complete.
#include <cstdint>
#include <fstream>
#include <span>
#include <string>
#include <vector>

namespace scout::eval {

struct BaseLogitsHeader {
  int64_t n_ctx = 0;
  int64_t n_vocab = 0;
  int64_t n_chunk = 0;
  std::vector<int32_t> tokens;  // n_chunk * n_ctx
  size_t chunk_words() const;   // uint16 words of one chunk's rows
};

class BaseLogitsWriter {
 public:
  BaseLogitsWriter(std::string path, const BaseLogitsHeader& header);
  ~BaseLogitsWriter();  // removes the unfinished .tmp file
  BaseLogitsWriter(const BaseLogitsWriter&) = delete;
  BaseLogitsWriter& operator=(const BaseLogitsWriter&) = delete;
  void write_chunk(std::span<const uint16_t> rows);  // chunk_words() words
  void finish();  // after every chunk: flush, close, rename into place

 private:
  std::string path_, tmp_;
  std::ofstream out_;
  size_t chunk_words_ = 0;
  int64_t chunks_left_ = 0;
  bool finished_ = false;
};

class BaseLogitsReader {
 public:
  // Reads and checks the header and the file size; throws scout::Error naming the file.
  explicit BaseLogitsReader(std::string path);
  const BaseLogitsHeader& header() const { return header_; }
  const std::string& path() const { return path_; }
  // The next chunk's rows (chunk_words() words).
  void read_chunk(std::vector<uint16_t>& rows);

 private:
  std::string path_;
  std::ifstream in_;
  BaseLogitsHeader header_;
  int64_t next_chunk_ = 0;
};

}  // namespace scout::eval
