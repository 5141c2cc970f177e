#include "engine/model/forward.h"

#include <set>
#include <string>

#include "engine/kernels/cpu/matmul.h"
#include "engine/model/arch.h"
#include "engine/model/layers.h"
#include "engine/util/error.h"

namespace scout::model {
namespace {

BatchLayout make_layout(const Model& m, std::span<const SeqInput> batch) {
  BatchLayout layout;
  std::set<const KvCache*> seen;
  for (const auto& in : batch) {
    if (!in.cache) throw Error("forward: a sequence without a KV cache");
    if (!seen.insert(in.cache).second) throw Error("forward: the same sequence appears twice in one batch");
    if (in.tokens.empty()) throw Error("forward: a sequence with no tokens");
    if (in.n_logits < 0 || in.n_logits > int64_t(in.tokens.size()))
      throw Error("forward: n_logits must be between 0 and the number of tokens");
    for (int32_t id : in.tokens)
      if (id < 0 || id >= m.hp.n_vocab)
        throw Error("token id " + std::to_string(id) + " outside the vocabulary of " + std::to_string(m.hp.n_vocab));
    const int64_t pos0 = in.cache->size(), n = int64_t(in.tokens.size());
    layout.seqs.push_back({in.cache, layout.n_tokens(), n, pos0});
    for (int64_t i = 0; i < n; ++i) layout.pos.push_back(pos0 + i);
  }
  // Reserve only after every check passed, so a refused batch changes nothing.
  for (const auto& s : layout.seqs) s.cache->reserve(s.pos0 + s.n);
  return layout;
}

void embed(const Model& m, std::span<const SeqInput> batch, float* x) {
  std::vector<int32_t> ids;
  for (const auto& in : batch) ids.insert(ids.end(), in.tokens.begin(), in.tokens.end());
  parallel_rows(int64_t(ids.size()),
                [&](int64_t t) { kernels::cpu::get_row(m.token_embd, ids[size_t(t)], x + t * m.hp.n_embd); });
}

}  // namespace

std::vector<float> forward(const Model& m, std::span<const SeqInput> batch) {
  const HParams& hp = m.hp;
  const BatchLayout layout = make_layout(m, batch);
  const int64_t n = layout.n_tokens(), d = hp.n_embd;
  std::vector<float> x(size_t(n * d));
  embed(m, batch, x.data());

  const Rope rope(hp, m.rope_freqs);
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    if (hp.arch == Arch::Llama4)
      llama4_layer(m, rope, il, layout, x.data());
    else
      llama_layer(m, rope, il, layout, x.data());
  }
  for (const auto& s : layout.seqs) s.cache->set_size(s.pos0 + s.n);

  // Final norm and LM head only for the rows whose logits were asked for.
  std::vector<int64_t> rows;
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& s = layout.seqs[i];
    for (int64_t j = s.n - batch[i].n_logits; j < s.n; ++j) rows.push_back(s.first + j);
  }
  const int64_t nr = int64_t(rows.size());
  std::vector<float> h(size_t(nr * d)), logits(size_t(nr * hp.n_vocab));
  parallel_rows(nr, [&](int64_t r) {
    rms_norm(x.data() + rows[size_t(r)] * d, d, hp.rms_eps, m.output_norm.data(), h.data() + r * d);
  });
  kernels::cpu::matmul(m.output, h.data(), nr, logits.data());
  return logits;
}

}  // namespace scout::model
