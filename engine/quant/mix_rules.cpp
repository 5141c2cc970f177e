#include "engine/quant/mix_rules.h"

#include <algorithm>
#include <cctype>
#include <numeric>

#include "engine/gguf/gguf.h"
#include "engine/util/error.h"

namespace scout::quant {
namespace {

using T = GgmlType;
namespace F = ftype;

const std::vector<MixFileType> kFileTypes = {
    {F::Q4_0, "Q4_0", T::Q4_0},       {F::Q4_1, "Q4_1", T::Q4_1},
    {F::MXFP4_MOE, "MXFP4_MOE", T::MXFP4},
    {F::Q5_0, "Q5_0", T::Q5_0},       {F::Q5_1, "Q5_1", T::Q5_1},
    {F::IQ2_XXS, "IQ2_XXS", T::IQ2_XXS}, {F::IQ2_XS, "IQ2_XS", T::IQ2_XS},
    {F::IQ2_S, "IQ2_S", T::IQ2_XS},   {F::IQ2_M, "IQ2_M", T::IQ2_S},
    {F::IQ1_S, "IQ1_S", T::IQ1_S},    {F::IQ1_M, "IQ1_M", T::IQ1_M},
    {F::TQ1_0, "TQ1_0", T::TQ1_0},    {F::TQ2_0, "TQ2_0", T::TQ2_0},
    {F::Q2_K, "Q2_K", T::Q2_K},       {F::Q2_K_S, "Q2_K_S", T::Q2_K},
    {F::IQ3_XXS, "IQ3_XXS", T::IQ3_XXS}, {F::IQ3_S, "IQ3_S", T::IQ3_S},
    {F::IQ3_M, "IQ3_M", T::IQ3_S},    {F::IQ3_XS, "IQ3_XS", T::IQ3_S},
    {F::Q3_K_S, "Q3_K_S", T::Q3_K},   {F::Q3_K_M, "Q3_K_M", T::Q3_K},
    {F::Q3_K_L, "Q3_K_L", T::Q3_K},   {F::IQ4_NL, "IQ4_NL", T::IQ4_NL},
    {F::IQ4_XS, "IQ4_XS", T::IQ4_XS}, {F::Q4_K_S, "Q4_K_S", T::Q4_K},
    {F::Q4_K_M, "Q4_K_M", T::Q4_K},   {F::Q5_K_S, "Q5_K_S", T::Q5_K},
    {F::Q5_K_M, "Q5_K_M", T::Q5_K},   {F::Q6_K, "Q6_K", T::Q6_K},
    {F::Q8_0, "Q8_0", T::Q8_0},       {F::F16, "F16", T::F16},
    {F::BF16, "BF16", T::BF16},       {F::ALL_F32, "F32", T::F32},
};

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = char(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

bool is_quantized(T t) { return traits(t).block_size > 1; }

// The broad tensor roles the rules distinguish (by name substring, first match wins).
enum class Cat { TokenEmbd, AttnQ, AttnV, AttnK, AttnQkv, AttnKvB, AttnOutput, FfnUp, FfnGate, FfnDown, Output, Other };

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

Cat category(std::string_view name) {
  if (name == "output.weight") return Cat::Output;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return Cat::TokenEmbd;
  if (contains(name, "attn_qkv.weight")) return Cat::AttnQkv;
  if (contains(name, "attn_kv_b.weight")) return Cat::AttnKvB;
  if (contains(name, "attn_v.weight")) return Cat::AttnV;
  if (contains(name, "attn_k.weight")) return Cat::AttnK;
  if (contains(name, "attn_q.weight")) return Cat::AttnQ;
  if (contains(name, "attn_output.weight")) return Cat::AttnOutput;
  if (contains(name, "ffn_up")) return Cat::FfnUp;
  if (contains(name, "ffn_gate")) return Cat::FfnGate;
  if (contains(name, "ffn_down")) return Cat::FfnDown;
  return Cat::Other;
}

// attn_v and the tensors that contain V (fused QKV, MLA's kv_b) are "more sensitive".
bool is_attn_v_like(Cat c) { return c == Cat::AttnV || c == Cat::AttnQkv || c == Cat::AttnKvB; }

// The layer number of "blk.N.…" (as sscanf "blk.%d." reads it); nullopt otherwise.
std::optional<int64_t> block_index(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return std::nullopt;
  size_t i = 4;
  bool neg = false;
  if (i < name.size() && (name[i] == '-' || name[i] == '+')) neg = name[i++] == '-';
  if (i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) return std::nullopt;
  int64_t v = 0;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])) && v < (int64_t(1) << 40))
    v = v * 10 + (name[i++] - '0');
  return neg ? -v : v;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third layer
// in between get a bigger type.
bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

bool any_of(int64_t f, std::initializer_list<int64_t> set) {
  return std::find(set.begin(), set.end(), f) != set.end();
}

}  // namespace

// ---------------------------------------------------------------- file types

const std::vector<MixFileType>& mix_file_types() { return kFileTypes; }

std::optional<int64_t> mix_file_type_from_name(std::string_view name) {
  const std::string u = upper(name);
  if (u == "Q3_K") return F::Q3_K_M;
  if (u == "Q4_K") return F::Q4_K_M;
  if (u == "Q5_K") return F::Q5_K_M;
  for (const auto& f : kFileTypes)
    if (u == f.name) return f.id;
  return std::nullopt;
}

const MixFileType* find_mix_file_type(int64_t id) {
  for (const auto& f : kFileTypes)
    if (f.id == id) return &f;
  return nullptr;
}

std::string mix_file_type_name(int64_t id) {
  const MixFileType* f = find_mix_file_type(id);
  return f ? std::string(f->name) : "ftype " + std::to_string(id);
}

// ---------------------------------------------------------------- model facts

bool MixModel::is_70b() const { return arch == "llama" && n_expert != 8 && n_layer == 80 && n_head != n_head_kv; }

MixModel mix_model_from_gguf(const gguf::File& f) {
  MixModel m;
  m.arch = f.architecture();
  if (m.arch != "llama" && m.arch != "llama4")
    throw Error(f.path() + ": architecture '" + m.arch + "' is not supported (llama and llama4 are)");
  const std::string p = m.arch + ".";
  m.n_layer = f.get_int(p + "block_count");
  // head counts may be per-layer arrays; llama.cpp's n_gqa() and model type use layer 0's.
  auto first = [&f](const std::string& key, int64_t fallback) -> int64_t {
    const gguf::Value* v = f.find(key);
    if (!v) return fallback;
    if (v->type == gguf::ValueType::ARRAY) {
      const auto xs = v->as_ints();
      if (xs.empty()) throw Error(f.path() + ": metadata " + key + " is an empty array");
      return xs.front();
    }
    return v->as_int();
  };
  m.n_head = first(p + "attention.head_count", -1);
  if (m.n_head < 0) throw Error(f.path() + ": metadata " + p + "attention.head_count is missing");
  m.n_head_kv = first(p + "attention.head_count_kv", m.n_head);
  m.n_expert = f.get_int_or(p + "expert_count", 0);
  if (m.n_layer <= 0) throw Error(f.path() + ": metadata " + p + "block_count must be positive");
  return m;
}

// ---------------------------------------------------------------- per-tensor rules

bool tensor_allows_quantization(std::string_view name, size_t n_dims) {
  if (n_dims < 2) return false;
  if (name.size() < 6 || name.substr(name.size() - 6) != "weight") return false;
  if (contains(name, "_norm.weight")) return false;
  if (contains(name, "ffn_gate_inp.weight")) return false;         // MoE router
  if (contains(name, "ffn_gate_tid2eid.weight")) return false;
  if (contains(name, "altup") || contains(name, "laurel") || contains(name, "per_layer_model_proj")) return false;
  if (name == "position_embd.weight" || name == "token_types.weight") return false;
  if (contains(name, "ssm_conv1d") || contains(name, "shortconv.conv.weight")) return false;
  if (contains(name, "indexer.k_proj.weight") || contains(name, "indexer.q_proj.weight")) return false;
  static constexpr std::string_view kRwkv[] = {
      "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
      "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
      "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
      "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight"};
  for (auto s : kRwkv)
    if (contains(name, s)) return false;
  if (contains(name, "attn_rel_b.weight")) return false;
  static constexpr std::string_view kMultimodal[] = {".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_",
                                                     ".rel_pos", ".patch_embd", ".patch_merger",
                                                     "a.rvq.codebook", "mm.a.code_embd"};
  for (auto s : kMultimodal)
    if (contains(name, s)) return false;
  return true;
}

GgmlType fallback_type(GgmlType target, int64_t row_length) {
  const int64_t block = traits(target).block_size;
  if (row_length % block == 0) return target;
  T r = target;
  switch (target) {
    case T::IQ1_S: case T::IQ1_M: case T::IQ2_XXS: case T::IQ2_XS: case T::IQ2_S:
    case T::IQ3_XXS: case T::IQ3_S: case T::IQ4_XS:
      r = T::IQ4_NL;
      break;
    case T::Q2_K: case T::Q3_K: case T::TQ1_0: case T::TQ2_0:
      r = T::Q4_0;
      break;
    case T::Q4_K: r = T::Q5_0; break;
    case T::Q5_K: r = T::Q5_1; break;
    case T::Q6_K: r = T::Q8_0; break;
    default:
      if (block > 32) throw Error("no fallback type is defined for " + type_label(target));
      r = target;  // a 32-block type: nothing smaller to fall back to; F16 below
  }
  if (row_length % traits(r).block_size != 0) r = T::F16;
  return r;
}

std::vector<size_t> llama_quantize_order(const std::vector<MixTensor>& tensors) {
  std::vector<size_t> idx(tensors.size());
  std::iota(idx.begin(), idx.end(), size_t(0));
  auto layer = [&](size_t i) { return block_index(tensors[i].name).value_or(-1); };
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    const int64_t la = layer(a), lb = layer(b);
    if (la != lb) return la < lb;
    return tensors[a].name < tensors[b].name;
  });
  return idx;
}

MixPlanner::MixPlanner(MixModel model, MixOptions opts, const std::vector<MixTensor>& all)
    : m_(std::move(model)), o_(opts) {
  if (!find_mix_file_type(o_.ftype)) throw Error("unknown file type " + std::to_string(o_.ftype));
  for (const auto& t : all) {
    const Cat c = category(t.name);
    if (is_attn_v_like(c)) ++n_attn_v_;
    if (c == Cat::Output) tied_ = false;
  }
}

MixChoice MixPlanner::choose(const MixTensor& t) {
  MixChoice c;
  c.quantizable = tensor_allows_quantization(t.name, t.dims.size());
  if (!c.quantizable) {
    c.type = c.rule_type = t.type;
    return c;
  }
  const T def = find_mix_file_type(o_.ftype)->default_type;
  T type = def;
  if (is_quantized(def)) {
    if (!o_.pure) type = rule(type, t);
    c.rule_type = type;
    type = fallback_type(type, t.dims.at(0));
    c.fell_back = type != c.rule_type;
  } else {
    c.rule_type = type;
  }
  c.type = type;
  return c;
}

GgmlType MixPlanner::rule(GgmlType new_type, const MixTensor& t) {
  const std::string& name = t.name;
  const int64_t f = o_.ftype;
  const Cat cat = category(name);
  const int64_t n_expert = m_.n_expert;
  const int64_t gqa = m_.n_gqa();

  // Which layer an ffn tensor is in: for MoE models from its name (expert tensors are not one
  // per layer), for dense ones from the running count of such tensors.
  auto layer_of = [&](int counter) -> std::pair<int64_t, int64_t> {
    const int64_t n = m_.n_layer;
    if (std::max<int64_t>(1, n_expert) > 1) {
      const auto l = block_index(name);
      if (!l) throw Error("cannot find the layer of tensor " + name);
      if (*l < 0 || *l >= n)
        throw Error("tensor " + name + ": layer " + std::to_string(*l) + " is outside [0, " + std::to_string(n) + ")");
      return {*l, n};
    }
    return {counter, n};
  };

  const bool iq2ish = any_of(f, {F::IQ2_XXS, F::IQ2_XS, F::IQ1_S, F::IQ2_S, F::IQ2_M, F::IQ1_M});

  if (cat == Cat::Output || (tied_ && cat == Cat::TokenEmbd)) {
    // The output head (or the token embedding that doubles as it) gets more bits.
    const int64_t block = traits(new_type).block_size;
    if (f == F::MXFP4_MOE) new_type = T::Q8_0;
    else if (t.dims.at(0) % block != 0) new_type = T::Q8_0;
    else if (any_of(f, {F::IQ2_XXS, F::IQ2_XS, F::IQ3_XXS, F::IQ1_S, F::IQ2_S, F::IQ2_M, F::IQ1_M})) new_type = T::Q5_K;
    else if (new_type != T::Q8_0) new_type = T::Q6_K;
  } else if (f == F::MXFP4_MOE) {
    new_type = t.dims.size() > 2 && t.dims[2] > 1 ? T::MXFP4 : T::Q8_0;
  } else if (cat == Cat::TokenEmbd) {
    if (any_of(f, {F::IQ2_XXS, F::IQ2_XS, F::IQ1_S, F::IQ1_M})) new_type = T::Q2_K;
    else if (any_of(f, {F::IQ2_S, F::IQ2_M, F::IQ3_XXS})) new_type = T::IQ3_S;
    else if (any_of(f, {F::TQ1_0, F::TQ2_0})) new_type = T::Q4_K;
  } else if (iq2ish) {
    const bool s_or_m = f == F::IQ2_S || f == F::IQ2_M;
    if (is_attn_v_like(cat)) {
      if (gqa >= 4 || n_expert >= 4) new_type = T::Q4_K;
      else new_type = s_or_m ? T::IQ3_S : T::Q2_K;
      ++i_attn_v_;
    } else if (n_expert == 8 && cat == Cat::AttnK) {
      new_type = T::Q4_K;
    } else if (cat == Cat::FfnDown) {
      if (i_ffn_down_ < m_.n_layer / 8) new_type = s_or_m ? T::IQ3_S : T::Q2_K;
      ++i_ffn_down_;
    } else if (cat == Cat::AttnOutput) {
      if (n_expert == 8) new_type = T::Q5_K;
      else if (f == F::IQ1_S || f == F::IQ1_M) new_type = T::IQ2_XXS;
      else if (s_or_m) new_type = T::IQ3_S;
    }
  } else if (is_attn_v_like(cat)) {
    if (f == F::Q2_K) new_type = gqa >= 4 ? T::Q4_K : T::Q3_K;
    else if (f == F::Q2_K_S && gqa >= 4) new_type = T::Q4_K;
    else if (f == F::IQ3_XXS) new_type = gqa >= 4 ? T::Q4_K : (!o_.has_imatrix ? T::IQ3_S : T::IQ3_XXS);
    else if ((f == F::IQ3_XS || f == F::IQ3_S) && gqa >= 4) new_type = T::Q4_K;
    else if (f == F::IQ3_M) new_type = T::Q4_K;
    else if (f == F::Q3_K_M) new_type = i_attn_v_ < 2 ? T::Q5_K : T::Q4_K;
    else if (f == F::Q3_K_L) new_type = T::Q5_K;
    else if ((f == F::IQ4_NL || f == F::IQ4_XS) && gqa >= 4) new_type = T::Q5_K;
    else if ((f == F::Q4_K_M || f == F::Q5_K_M) && use_more_bits(i_attn_v_, n_attn_v_)) new_type = T::Q6_K;
    else if (f == F::Q4_K_S && i_attn_v_ < 4) new_type = T::Q5_K;
    if (m_.is_70b() && (new_type == T::Q3_K || new_type == T::Q4_K)) new_type = T::Q5_K;
    if (n_expert == 8) new_type = T::Q8_0;
    ++i_attn_v_;
  } else if (cat == Cat::AttnK) {
    if (n_expert == 8) new_type = T::Q8_0;
    else if (f == F::IQ3_XS) new_type = T::IQ3_XXS;
    else if (f == F::IQ3_XXS) new_type = T::IQ2_S;
  } else if (cat == Cat::AttnQ) {
    if (f == F::IQ3_XS) new_type = T::IQ3_XXS;
    else if (f == F::IQ3_XXS) new_type = T::IQ2_S;
  } else if (cat == Cat::FfnDown) {
    const auto [il, nl] = layer_of(i_ffn_down_);
    if (f == F::Q2_K) new_type = T::Q3_K;
    else if (f == F::Q2_K_S) {
      if (il < nl / 8) new_type = T::Q4_K;
    } else if (f == F::IQ3_XXS && !o_.has_imatrix) new_type = il < nl / 8 ? T::Q4_K : T::Q3_K;
    else if (f == F::Q3_K_M) new_type = il < nl / 16 ? T::Q5_K : T::Q4_K;  // (Q3_K only for Falcon)
    else if (f == F::IQ3_M && (il < nl / 8 || (n_expert == 8 && use_more_bits(il, nl)))) new_type = T::Q4_K;
    else if (f == F::Q3_K_L) new_type = T::Q5_K;
    else if (f == F::Q4_K_M) {
      if (use_more_bits(il, nl)) new_type = T::Q6_K;
    } else if (il < nl / 8 && (f == F::IQ4_NL || f == F::IQ4_XS) && !o_.has_imatrix) new_type = T::Q5_K;
    else if (f == F::Q5_K_M && use_more_bits(il, nl)) new_type = T::Q6_K;
    else if (f == F::Q4_K_S && il < nl / 8) new_type = T::Q5_K;
    else if ((f == F::Q4_0 || f == F::Q5_0) && o_.has_imatrix && il < nl / 8)
      new_type = f == F::Q4_0 ? T::Q4_1 : T::Q5_1;
    ++i_ffn_down_;
  } else if (cat == Cat::AttnOutput) {
    if (n_expert == 8) {
      if (any_of(f, {F::Q2_K, F::IQ3_XS, F::IQ3_XXS, F::Q3_K_S, F::Q3_K_M, F::IQ4_NL, F::Q4_K_S, F::Q4_K_M,
                     F::IQ3_S, F::IQ3_M, F::IQ4_XS}))
        new_type = T::Q5_K;
    } else {
      if (f == F::Q2_K) new_type = T::Q3_K;
      else if (f == F::IQ3_XXS) new_type = T::IQ3_S;
      else if (f == F::Q3_K_M) new_type = T::Q4_K;
      else if (f == F::Q3_K_L) new_type = T::Q5_K;
      else if (f == F::IQ3_M) new_type = T::Q4_K;
    }
  } else if (cat == Cat::AttnQkv) {
    // (unreachable: fused QKV is attn_v-like above; kept as llama.cpp has it)
  } else if (cat == Cat::FfnGate || cat == Cat::FfnUp) {
    int& counter = cat == Cat::FfnGate ? i_ffn_gate_ : i_ffn_up_;
    const auto [il, nl] = layer_of(counter);
    if (f == F::IQ3_XS && il >= nl / 8 && il < 7 * nl / 8) new_type = T::IQ3_XXS;
    ++counter;
  }
  return new_type;
}

std::vector<MixChoice> plan_mix(const MixModel& model, const MixOptions& opts, const std::vector<MixTensor>& tensors) {
  MixPlanner planner(model, opts, tensors);
  std::vector<MixChoice> out(tensors.size());
  for (size_t i : llama_quantize_order(tensors)) out[i] = planner.choose(tensors[i]);
  return out;
}

}  // namespace scout::quant
