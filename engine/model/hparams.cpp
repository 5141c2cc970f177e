#include "engine/model/hparams.h"

#include <map>
#include <set>

namespace scout::model {
namespace {

int64_t positive(const gguf::File& f, const std::string& key) {
  const int64_t v = f.get_int(key);
  if (v <= 0) throw gguf::FormatError(f.path() + ": metadata " + key + " must be positive, is " + std::to_string(v));
  return v;
}

int64_t vocab_size(const gguf::File& f, const std::string& arch) {
  if (f.find(arch + ".vocab_size")) return positive(f, arch + ".vocab_size");
  if (const gguf::Value* tokens = f.find("tokenizer.ggml.tokens"))
    if (tokens->type == gguf::ValueType::ARRAY) return int64_t(tokens->items.size());
  if (const gguf::TensorInfo* t = f.tensor("token_embd.weight"); t && t->dims.size() == 2) return t->dims[1];
  throw gguf::FormatError(f.path() + ": cannot tell the vocabulary size (no " + arch +
                          ".vocab_size, tokenizer.ggml.tokens or token_embd.weight)");
}

// As llama.cpp reads it: the scaling type defaults to "linear", and a rope.scaling.factor (or
// the older rope.scale_linear) divides the positions. llama3's scaling comes as the rope_freqs
// tensor instead. YaRN and LongRoPE change more than the positions and are refused.
void read_rope_scaling(const gguf::File& f, const std::string& a, HParams& hp) {
  std::string type = "linear";
  if (f.find(a + "rope.scaling.type")) type = f.get_string(a + "rope.scaling.type");
  double factor = f.get_float_or(a + "rope.scaling.factor", 0.0);
  if (!f.find(a + "rope.scaling.factor")) factor = f.get_float_or(a + "rope.scale_linear", 0.0);
  if (type == "none") return;
  if (type != "linear")
    throw gguf::FormatError(f.path() + ": rope.scaling.type '" + type + "' is not supported (none, linear)");
  if (factor < 0.0) throw gguf::FormatError(f.path() + ": rope.scaling.factor must not be negative");
  if (factor > 0.0) hp.rope_freq_scale = float(1.0 / factor);
}

}  // namespace

bool HParams::is_moe_layer(int64_t layer) const {
  if (n_expert == 0) return false;
  if (arch != Arch::Llama4) return true;
  return moe_layer_step > 0 && (layer + 1) % moe_layer_step == 0;
}

bool HParams::is_nope_layer(int64_t layer) const {
  return nope_layer_step > 0 && (layer + 1) % nope_layer_step == 0;
}

bool HParams::is_chunked_layer(int64_t layer) const {
  return attn_chunk > 0 && !is_nope_layer(layer);
}

int64_t HParams::n_params() const {
  int64_t total = n_vocab * n_embd * (tied_output ? 1 : 2);
  const int64_t attn = n_embd * head_dim * (2 * n_head + 2 * n_head_kv);
  for (int64_t l = 0; l < n_layer; ++l) {
    total += attn;
    if (is_moe_layer(l)) {
      total += n_embd * n_expert + 3 * n_embd * n_ff_exp * n_expert;
      if (arch == Arch::Llama4) total += 3 * n_embd * n_ff_exp;  // shared expert
    } else {
      total += 3 * n_embd * n_ff;
    }
  }
  return total;
}

HParams load_hparams(const gguf::File& f) {
  HParams hp;
  hp.arch_name = f.architecture();
  if (hp.arch_name == "llama") hp.arch = Arch::Llama;
  else if (hp.arch_name == "llama4") hp.arch = Arch::Llama4;
  else
    throw gguf::FormatError(f.path() + ": unsupported architecture '" + hp.arch_name +
                            "' (supported: llama, llama4)");
  const std::string a = hp.arch_name + ".";
  hp.n_vocab = vocab_size(f, hp.arch_name);
  hp.n_ctx_train = positive(f, a + "context_length");
  hp.n_embd = positive(f, a + "embedding_length");
  hp.n_layer = positive(f, a + "block_count");
  hp.n_head = positive(f, a + "attention.head_count");
  hp.n_head_kv = f.find(a + "attention.head_count_kv") ? positive(f, a + "attention.head_count_kv") : hp.n_head;
  if (hp.n_head % hp.n_head_kv != 0)
    throw gguf::FormatError(f.path() + ": head_count " + std::to_string(hp.n_head) +
                            " is not a multiple of head_count_kv " + std::to_string(hp.n_head_kv));
  hp.head_dim = f.find(a + "rope.dimension_count") ? positive(f, a + "rope.dimension_count") : hp.n_embd / hp.n_head;
  hp.n_rot = hp.head_dim;
  if (f.find(a + "attention.key_length")) hp.head_dim = positive(f, a + "attention.key_length");
  if (f.find(a + "attention.value_length") && f.get_int(a + "attention.value_length") != hp.head_dim)
    throw gguf::FormatError(f.path() + ": attention.value_length differs from key_length (unsupported)");
  if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0)
    throw gguf::FormatError(f.path() + ": rope.dimension_count " + std::to_string(hp.n_rot) +
                            " must be even and at most the head size " + std::to_string(hp.head_dim));
  hp.n_ff = positive(f, a + "feed_forward_length");
  hp.rope_freq_base = float(f.get_float_or(a + "rope.freq_base", 10000.0));
  hp.rms_eps = float(f.get_float_or(a + "attention.layer_norm_rms_epsilon", 1e-5));
  read_rope_scaling(f, a, hp);
  hp.n_expert = f.get_int_or(a + "expert_count", 0);
  hp.n_expert_used = f.get_int_or(a + "expert_used_count", 0);
  if (hp.n_expert < 0 || hp.n_expert_used < 0 || hp.n_expert_used > hp.n_expert)
    throw gguf::FormatError(f.path() + ": expert_used_count must be between 0 and expert_count");
  if (hp.n_expert > 0 && hp.n_expert_used == 0)
    throw gguf::FormatError(f.path() + ": " + a + "expert_used_count missing for an MoE model");
  if (hp.arch == Arch::Llama4) {
    hp.n_ff_exp = positive(f, a + "expert_feed_forward_length");
    hp.moe_layer_step = f.get_int_or(a + "interleave_moe_layer_step", 1);
    if (hp.moe_layer_step < 1) throw gguf::FormatError(f.path() + ": interleave_moe_layer_step must be >= 1");
    // Fixed in Llama 4 (and in llama.cpp): 3 chunked RoPE layers, then 1 global NoPE layer.
    hp.nope_layer_step = f.get_int_or(a + "no_rope_layer_step", 4);
    hp.attn_chunk = f.get_int_or(a + "attention.chunk_size", 8192);
    hp.attn_temp_floor = 8192;
    hp.attn_temp_scale = 0.1f;
    // llama.cpp: sliding_window = 0 (written for all-global models such as MobileLLM) turns the
    // chunking off and makes only the last layer NoPE (no_rope_layer_step = n_layer).
    if (f.find(a + "attention.sliding_window") && f.get_int(a + "attention.sliding_window") == 0) {
      hp.attn_chunk = 0;
      hp.nope_layer_step = hp.n_layer;
    }
    if (hp.nope_layer_step < 0 || hp.attn_chunk < 0)
      throw gguf::FormatError(f.path() + ": no_rope_layer_step and attention.chunk_size must be >= 0");
    hp.use_qk_norm = hp.n_expert != 128;
  } else {
    hp.n_ff_exp = hp.n_expert > 0 ? f.get_int_or(a + "expert_feed_forward_length", hp.n_ff) : 0;
  }
  hp.tied_output = f.tensor("output.weight") == nullptr;
  hp.has_rope_freqs = f.tensor("rope_freqs.weight") != nullptr;
  return hp;
}

std::vector<ExpectedTensor> expected_tensors(const HParams& hp) {
  std::vector<ExpectedTensor> out;
  const int64_t q_dim = hp.n_head * hp.head_dim, kv_dim = hp.n_head_kv * hp.head_dim;
  out.push_back({"token_embd.weight", {hp.n_embd, hp.n_vocab}});
  out.push_back({"output_norm.weight", {hp.n_embd}});
  out.push_back({"output.weight", {hp.n_embd, hp.n_vocab}, false});
  out.push_back({"rope_freqs.weight", {hp.n_rot / 2}, false});  // llama.cpp: n_rot / 2
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    out.push_back({b + "attn_norm.weight", {hp.n_embd}});
    out.push_back({b + "attn_q.weight", {hp.n_embd, q_dim}});
    out.push_back({b + "attn_k.weight", {hp.n_embd, kv_dim}});
    out.push_back({b + "attn_v.weight", {hp.n_embd, kv_dim}});
    out.push_back({b + "attn_output.weight", {q_dim, hp.n_embd}});
    out.push_back({b + "ffn_norm.weight", {hp.n_embd}});
    if (hp.is_moe_layer(l)) {
      out.push_back({b + "ffn_gate_inp.weight", {hp.n_embd, hp.n_expert}});
      out.push_back({b + "ffn_gate_exps.weight", {hp.n_embd, hp.n_ff_exp, hp.n_expert}});
      out.push_back({b + "ffn_up_exps.weight", {hp.n_embd, hp.n_ff_exp, hp.n_expert}});
      out.push_back({b + "ffn_down_exps.weight", {hp.n_ff_exp, hp.n_embd, hp.n_expert}});
      if (hp.arch == Arch::Llama4) {
        out.push_back({b + "ffn_gate_shexp.weight", {hp.n_embd, hp.n_ff_exp}});
        out.push_back({b + "ffn_up_shexp.weight", {hp.n_embd, hp.n_ff_exp}});
        out.push_back({b + "ffn_down_shexp.weight", {hp.n_ff_exp, hp.n_embd}});
      }
    } else {
      out.push_back({b + "ffn_gate.weight", {hp.n_embd, hp.n_ff}});
      out.push_back({b + "ffn_up.weight", {hp.n_embd, hp.n_ff}});
      out.push_back({b + "ffn_down.weight", {hp.n_ff, hp.n_embd}});
    }
  }
  return out;
}

std::vector<std::string> check_tensors(const gguf::File& f, const HParams& hp) {
  std::vector<std::string> problems;
  std::set<std::string> known;
  for (const auto& e : expected_tensors(hp)) {
    known.insert(e.name);
    const gguf::TensorInfo* t = f.tensor(e.name);
    if (!t) {
      if (e.required) problems.push_back("missing tensor " + e.name);
      continue;
    }
    if (t->dims != e.dims) {
      gguf::TensorInfo want;
      want.dims = e.dims;
      problems.push_back("tensor " + e.name + " has shape " + t->shape_string() + ", expected " + want.shape_string());
    }
    if (!quant::traits(t->type).computable)
      problems.push_back("tensor " + e.name + " has type " + std::string(quant::traits(t->type).name) +
                         ", which scout-eval cannot compute on");
  }
  for (const auto& t : f.tensors())
    if (!known.count(t.name)) problems.push_back("unexpected tensor " + t.name);
  return problems;
}

}  // namespace scout::model
