#include "engine/model/weights.h"

#include "engine/quant/dequantize.h"
#include "engine/util/error.h"

namespace scout::model {
namespace {

const gguf::TensorInfo& tensor(const gguf::File& f, const std::string& name) {
  const gguf::TensorInfo* t = f.tensor(name);
  if (!t) throw Error(f.path() + ": missing tensor " + name);
  return *t;
}

// A 2-D (or stacked 3-D) matrix: rows are everything past dims[0].
WeightView matrix(const gguf::File& f, const std::string& name) {
  const gguf::TensorInfo& t = tensor(f, name);
  return kernels::cpu::make_weight_view(t.type, t.data, t.dims[0], t.n_rows());
}

std::vector<float> vector_f32(const gguf::File& f, const std::string& name) {
  const gguf::TensorInfo& t = tensor(f, name);
  std::vector<float> v(size_t(t.n_elements));
  quant::dequantize_row(t.type, t.data, v.data(), t.n_elements);
  return v;
}

void refuse_unsupported(const gguf::File& f, const HParams& hp) {
  if (hp.arch == Arch::Llama && hp.n_expert > 0)
    throw Error(f.path() + ": llama-architecture MoE models (Mixtral style) are not supported");
  const auto problems = check_tensors(f, hp);
  if (problems.empty()) return;
  std::string msg = f.path() + ": not a complete " + hp.arch_name + " model:";
  for (const auto& p : problems) msg += "\n  " + p;
  throw Error(msg);
}

LayerWeights load_layer(const gguf::File& f, const HParams& hp, int64_t il) {
  const std::string b = "blk." + std::to_string(il) + ".";
  LayerWeights w;
  w.attn_norm = vector_f32(f, b + "attn_norm.weight");
  w.ffn_norm = vector_f32(f, b + "ffn_norm.weight");
  w.wq = matrix(f, b + "attn_q.weight");
  w.wk = matrix(f, b + "attn_k.weight");
  w.wv = matrix(f, b + "attn_v.weight");
  w.wo = matrix(f, b + "attn_output.weight");
  w.moe = hp.is_moe_layer(il);
  if (!w.moe) {
    w.ffn_gate = matrix(f, b + "ffn_gate.weight");
    w.ffn_up = matrix(f, b + "ffn_up.weight");
    w.ffn_down = matrix(f, b + "ffn_down.weight");
    return w;
  }
  w.router = matrix(f, b + "ffn_gate_inp.weight");
  w.gate_exps = matrix(f, b + "ffn_gate_exps.weight");
  w.up_exps = matrix(f, b + "ffn_up_exps.weight");
  w.down_exps = matrix(f, b + "ffn_down_exps.weight");
  if (hp.arch == Arch::Llama4) {
    w.gate_shexp = matrix(f, b + "ffn_gate_shexp.weight");
    w.up_shexp = matrix(f, b + "ffn_up_shexp.weight");
    w.down_shexp = matrix(f, b + "ffn_down_shexp.weight");
  }
  return w;
}

}  // namespace

std::unique_ptr<Model> Model::load(const std::string& path, const ModelOptions& opts) {
  return load(gguf::File::open(path), opts);
}

std::unique_ptr<Model> Model::load(std::unique_ptr<gguf::File> file, const ModelOptions& opts) {
  auto m = std::make_unique<Model>();
  const gguf::File& f = *file;
  m->hp = load_hparams(f);
  refuse_unsupported(f, m->hp);
  if (opts.adjust_hparams) opts.adjust_hparams(m->hp);
  m->token_embd = matrix(f, "token_embd.weight");
  m->output = m->hp.tied_output ? m->token_embd : matrix(f, "output.weight");
  m->output_norm = vector_f32(f, "output_norm.weight");
  if (m->hp.has_rope_freqs) m->rope_freqs = vector_f32(f, "rope_freqs.weight");
  if (!m->rope_freqs.empty() && int64_t(m->rope_freqs.size()) != m->hp.n_rot / 2)
    throw Error(f.path() + ": rope_freqs.weight has " + std::to_string(m->rope_freqs.size()) +
                " values, expected " + std::to_string(m->hp.n_rot / 2));
  for (int64_t il = 0; il < m->hp.n_layer; ++il) m->layers.push_back(load_layer(f, m->hp, il));
  m->file = std::move(file);
  return m;
}

namespace {
void add_matrix(std::vector<kernels::cpu::ByteSpan>& set, const WeightView& w) {
  if (!w.empty()) set.emplace_back(w.data, uint64_t(w.n_rows) * w.row_bytes);
}
}  // namespace

std::vector<kernels::cpu::ByteSpan> decode_read_set(const Model& m, int64_t token) {
  std::vector<kernels::cpu::ByteSpan> set;
  add_matrix(set, m.output);
  set.emplace_back(m.token_embd.row(token % m.token_embd.n_rows), m.token_embd.row_bytes);
  const int64_t ff = m.hp.n_ff_exp, d = m.hp.n_embd;
  for (const LayerWeights& l : m.layers) {
    for (const WeightView* w : {&l.wq, &l.wk, &l.wv, &l.wo}) add_matrix(set, *w);
    if (!l.moe) {
      for (const WeightView* w : {&l.ffn_gate, &l.ffn_up, &l.ffn_down}) add_matrix(set, *w);
      continue;
    }
    add_matrix(set, l.router);
    for (int64_t k = 0; k < m.hp.n_expert_used; ++k) {
      const int64_t e = (token * m.hp.n_expert_used + k) % m.hp.n_expert;
      add_matrix(set, l.gate_exps.rows(e * ff, ff));
      add_matrix(set, l.up_exps.rows(e * ff, ff));
      add_matrix(set, l.down_exps.rows(e * d, d));
    }
    for (const WeightView* w : {&l.gate_shexp, &l.up_shexp, &l.down_shexp}) add_matrix(set, *w);
  }
  return set;
}

uint64_t decode_bytes_per_token(const Model& m) {
  uint64_t total = 0;
  for (kernels::cpu::ByteSpan s : decode_read_set(m, 0)) total += s.size();
  return total;
}

}  // namespace scout::model
