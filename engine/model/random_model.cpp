#include "engine/model/random_model.h"

#include <tbb/parallel_for.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "engine/gguf/gguf.h"
#include "engine/util/error.h"
#include "engine/util/half.h"

namespace scout::model {
namespace {

using gguf::Value;
using quant::GgmlType;

// ----- deterministic random numbers: splitmix64 streams keyed by (seed, tensor, chunk) -----

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Standard normal via Box-Muller on 53-bit uniforms: portable, unlike std::normal_distribution.
struct Normal {
  uint64_t state;
  double spare = 0;
  bool has_spare = false;
  double next() {
    if (has_spare) {
      has_spare = false;
      return spare;
    }
    double u1 = double(splitmix64(state) >> 11) * 0x1.0p-53;
    const double u2 = double(splitmix64(state) >> 11) * 0x1.0p-53;
    if (u1 < 1e-300) u1 = 1e-300;
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare = r * std::sin(2.0 * M_PI * u2);
    has_spare = true;
    return r * std::cos(2.0 * M_PI * u2);
  }
};

void store_row(GgmlType t, const float* src, uint8_t* dst, int64_t n) {
  switch (t) {
    case GgmlType::F32: std::memcpy(dst, src, size_t(n) * 4); break;
    case GgmlType::F16:
      for (int64_t k = 0; k < n; ++k) {
        const uint16_t h = fp32_to_fp16(src[k]);
        std::memcpy(dst + 2 * k, &h, 2);
      }
      break;
    case GgmlType::BF16:
      for (int64_t k = 0; k < n; ++k) {
        const uint16_t h = fp32_to_bf16(src[k]);
        std::memcpy(dst + 2 * k, &h, 2);
      }
      break;
    default: throw Error("random models are written as f32, f16 or bf16");
  }
}

// Fills a tensor of rows x cols with mean + stddev * N(0,1). Rows are generated in chunks of
// 64, each chunk from its own stream, so the bytes never depend on scheduling.
gguf::Writer::Producer normal_producer(uint64_t seed, const std::string& name, GgmlType type,
                                       int64_t cols, float mean, float stddev) {
  return [=](std::span<uint8_t> out) {
    const int64_t row_bytes = int64_t(*quant::row_bytes(type, cols));
    const int64_t rows = int64_t(out.size()) / row_bytes;
    constexpr int64_t kChunk = 64;
    const uint64_t key = seed ^ fnv1a(name);
    tbb::parallel_for(int64_t(0), (rows + kChunk - 1) / kChunk, [&](int64_t c) {
      Normal rng{key + uint64_t(c) * 0xd1b54a32d192ed03ull};
      std::vector<float> row(static_cast<size_t>(cols));
      for (int64_t r = c * kChunk; r < std::min(rows, (c + 1) * kChunk); ++r) {
        for (auto& x : row) x = mean + stddev * float(rng.next());
        store_row(type, row.data(), out.data() + r * row_bytes, cols);
      }
    });
  };
}

gguf::Writer::Producer floats_producer(std::vector<float> values) {
  return [v = std::move(values)](std::span<uint8_t> out) { std::memcpy(out.data(), v.data(), out.size()); };
}

// llama3-style per-frequency divisors, as HF's rope_type "llama3" and the GGUF converters
// compute them (written as rope_freqs.weight).
std::vector<float> llama3_rope_factors(const Preset& p, int64_t head_dim) {
  const double low_freq_factor = 1.0, high_freq_factor = 1.0;
  const double low_wavelen = double(p.rope_orig_ctx) / low_freq_factor;
  const double high_wavelen = double(p.rope_orig_ctx) / high_freq_factor;
  std::vector<float> out;
  for (int64_t i = 0; i < head_dim; i += 2) {
    const double freq = 1.0 / std::pow(double(p.rope_freq_base), double(i) / double(head_dim));
    const double wavelen = 2.0 * M_PI / freq;
    if (wavelen < high_wavelen) out.push_back(1.0f);
    else if (wavelen > low_wavelen) out.push_back(p.rope_scale_factor);
    else {
      const double smooth = high_freq_factor == low_freq_factor
                                ? 1.0
                                : (double(p.rope_orig_ctx) / wavelen - low_freq_factor) /
                                      (high_freq_factor - low_freq_factor);
      out.push_back(float(1.0 / ((1.0 - smooth) / p.rope_scale_factor + smooth)));
    }
  }
  return out;
}

// ----- the built-in byte-level BPE vocabulary -----

// GPT-2's reversible byte -> code point map, UTF-8 encoded.
std::string byte_token(int b) {
  const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  int cp = b;
  if (!printable) {
    int n = 0;
    for (int k = 0; k < b; ++k) {
      const bool pk = (k >= 33 && k <= 126) || (k >= 161 && k <= 172) || (k >= 174 && k <= 255);
      if (!pk) ++n;
    }
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) s += char(cp);
  else {
    s += char(0xc0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3f));
  }
  return s;
}

struct BuiltinVocab {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<std::string> merges;
  int32_t bos = 0, eos = 0, eot = 0;
};

// 256 byte tokens, a few dozen English merges (so BPE merging is exercised), the
// architecture's special tokens, then reserved control tokens up to n_vocab.
BuiltinVocab builtin_vocab(const std::string& arch, int64_t n_vocab) {
  constexpr int32_t kNormal = 1, kControl = 3;
  BuiltinVocab v;
  for (int b = 0; b < 256; ++b) {
    v.tokens.push_back(byte_token(b));
    v.types.push_back(kNormal);
  }
  const std::string sp = byte_token(' ');
  const std::vector<std::pair<std::string, std::string>> merges = {
      {sp, "t"}, {"h", "e"}, {"i", "n"}, {"e", "r"}, {"a", "n"}, {sp, "a"}, {"o", "n"},
      {"r", "e"}, {sp + "t", "he"}, {sp, "s"}, {"e", "n"}, {"a", "t"}, {"o", "r"},
      {sp, "w"}, {"e", "s"}, {sp, "o"}, {"i", "t"}, {"i", "s"}, {sp, "c"}, {"in", "g"},
      {"e", "d"}, {sp, "b"}, {sp, "f"}, {"o", "u"}, {sp, "p"}, {"a", "r"}, {"a", "l"},
      {sp + "a", "n"}, {sp + "an", "d"}, {sp, "i"}, {sp + "o", "f"}, {sp, "m"}, {"l", "e"},
      {sp + "i", "n"}, {sp, "1"}, {"0", "0"}, {sp, "="}, {"(", ")"}, {sp, sp}, {sp + sp, sp + sp}};
  for (const auto& [a, b] : merges) {
    v.merges.push_back(a + " " + b);
    v.tokens.push_back(a + b);
    v.types.push_back(kNormal);
  }
  const std::vector<std::string> specials =
      arch == "llama4"
          ? std::vector<std::string>{"<|begin_of_text|>", "<|end_of_text|>", "<|header_start|>",
                                     "<|header_end|>", "<|eot|>", "<|eom|>", "<|python_start|>",
                                     "<|python_end|>", "<|finetune_right_pad|>"}
          : std::vector<std::string>{"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                                     "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>",
                                     "<|python_tag|>", "<|finetune_right_pad_id|>"};
  const int32_t first_special = int32_t(v.tokens.size());
  for (const auto& s : specials) {
    v.tokens.push_back(s);
    v.types.push_back(kControl);
  }
  v.bos = first_special;
  v.eos = first_special + 4;  // <|eot|> (llama4) or <|eot_id|> (llama 3): ends a turn
  v.eot = v.eos;
  if (int64_t(v.tokens.size()) > n_vocab)
    throw Error("vocabulary of " + std::to_string(n_vocab) + " is smaller than the built-in tokenizer");
  for (int64_t k = int64_t(v.tokens.size()); k < n_vocab; ++k) {
    v.tokens.push_back("<|reserved_special_token_" + std::to_string(k) + "|>");
    v.types.push_back(kControl);
  }
  return v;
}

// Compact chat templates with the structure of the official ones (recognised by scout-eval's
// template matcher; enough for generation tests on random models).
const char* kLlama4Template =
    "{{- bos_token }}{%- for message in messages %}{{- '<|header_start|>' + message['role'] + "
    "'<|header_end|>\\n\\n' + message['content'] | trim + '<|eot|>' }}{%- endfor %}{%- if "
    "add_generation_prompt %}{{- '<|header_start|>assistant<|header_end|>\\n\\n' }}{%- endif %}";
const char* kLlama3Template =
    "{{- bos_token }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{%- endfor %}{%- if "
    "add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";

int64_t set_tokenizer(gguf::Writer& w, const RandomModelOptions& opt, const Preset& p) {
  if (!opt.vocab_from.empty()) {
    auto src = gguf::File::open(opt.vocab_from);
    int64_t n = 0;
    for (const auto& kv : src->metadata())
      if (kv.key.rfind("tokenizer.", 0) == 0) {
        w.set(kv.key, kv.value);
        if (kv.key == "tokenizer.ggml.tokens") n = int64_t(kv.value.items.size());
      }
    if (n == 0) throw Error(opt.vocab_from + ": has no tokenizer.ggml.tokens to copy");
    return n;
  }
  const BuiltinVocab v = builtin_vocab(p.arch, p.n_vocab);
  w.set("tokenizer.ggml.model", Value::of_string("gpt2"));
  w.set("tokenizer.ggml.pre", Value::of_string(p.arch == "llama4" ? "llama4" : "llama-bpe"));
  w.set("tokenizer.ggml.tokens", Value::of_strings(v.tokens));
  w.set("tokenizer.ggml.token_type", Value::of_i32s(v.types));
  w.set("tokenizer.ggml.merges", Value::of_strings(v.merges));
  w.set("tokenizer.ggml.bos_token_id", Value::of_u32(uint32_t(v.bos)));
  w.set("tokenizer.ggml.eos_token_id", Value::of_u32(uint32_t(v.eos)));
  w.set("tokenizer.ggml.eot_token_id", Value::of_u32(uint32_t(v.eot)));
  w.set("tokenizer.ggml.add_bos_token", Value::of_bool(true));
  w.set("tokenizer.chat_template", Value::of_string(p.arch == "llama4" ? kLlama4Template : kLlama3Template));
  return p.n_vocab;
}

uint32_t file_type_id(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::BF16: return 32;  // LLAMA_FTYPE_MOSTLY_BF16
    default: throw Error("--dtype must be f32, f16 or bf16");
  }
}

void set_hparams(gguf::Writer& w, const Preset& p, int64_t n_layer, int64_t n_vocab, GgmlType dtype) {
  const std::string a = p.arch + ".";
  const int64_t head_dim = p.n_embd / p.n_head;
  w.set("general.architecture", Value::of_string(p.arch));
  w.set("general.type", Value::of_string("model"));
  w.set("general.name", Value::of_string("scout-eval random " + p.name));
  w.set("general.file_type", Value::of_u32(file_type_id(dtype)));
  w.set(a + "vocab_size", Value::of_u32(uint32_t(n_vocab)));
  w.set(a + "context_length", Value::of_u32(uint32_t(p.n_ctx)));
  w.set(a + "embedding_length", Value::of_u32(uint32_t(p.n_embd)));
  w.set(a + "block_count", Value::of_u32(uint32_t(n_layer)));
  w.set(a + "feed_forward_length", Value::of_u32(uint32_t(p.n_ff)));
  w.set(a + "attention.head_count", Value::of_u32(uint32_t(p.n_head)));
  w.set(a + "attention.head_count_kv", Value::of_u32(uint32_t(p.n_head_kv)));
  w.set(a + "attention.key_length", Value::of_u32(uint32_t(head_dim)));
  w.set(a + "attention.value_length", Value::of_u32(uint32_t(head_dim)));
  w.set(a + "rope.dimension_count", Value::of_u32(uint32_t(head_dim)));
  w.set(a + "rope.freq_base", Value::of_f32(p.rope_freq_base));
  w.set(a + "attention.layer_norm_rms_epsilon", Value::of_f32(p.rms_eps));
  if (p.n_expert > 0) {
    w.set(a + "expert_count", Value::of_u32(uint32_t(p.n_expert)));
    w.set(a + "expert_used_count", Value::of_u32(uint32_t(p.n_expert_used)));
  }
  if (p.arch == "llama4") {
    w.set(a + "expert_feed_forward_length", Value::of_u32(uint32_t(p.n_ff_exp)));
    w.set(a + "interleave_moe_layer_step", Value::of_u32(uint32_t(p.moe_layer_step)));
  }
}

// Standard deviations chosen so activations stay O(1) through every layer: inputs of each
// projection have unit RMS after the norm, so 1/sqrt(fan_in) keeps outputs O(1); residual
// branches are further damped by 1/sqrt(2 * layers) so the stream grows slowly with depth.
// The router is wider so top-1 choices spread over the experts.
void add_weights(gguf::Writer& w, const Preset& p, int64_t n_layer, int64_t n_vocab, uint64_t seed, GgmlType dt) {
  const int64_t head_dim = p.n_embd / p.n_head;
  const int64_t q_dim = p.n_head * head_dim, kv_dim = p.n_head_kv * head_dim;
  const float in_std = 1.0f / std::sqrt(float(p.n_embd));
  const float damp = 1.0f / std::sqrt(2.0f * float(n_layer));
  auto normal = [&](const std::string& name, GgmlType t, std::vector<int64_t> dims, float mean, float sd) {
    w.add_tensor(name, t, dims, normal_producer(seed, name, t, dims[0], mean, sd));
  };
  normal("token_embd.weight", dt, {p.n_embd, n_vocab}, 0.0f, 1.0f);
  if (p.rope_scale_factor > 0)
    w.add_tensor("rope_freqs.weight", GgmlType::F32, {head_dim / 2},
                 floats_producer(llama3_rope_factors(p, head_dim)));
  for (int64_t l = 0; l < n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    normal(b + "attn_norm.weight", GgmlType::F32, {p.n_embd}, 1.0f, 0.1f);
    normal(b + "attn_q.weight", dt, {p.n_embd, q_dim}, 0.0f, in_std);
    normal(b + "attn_k.weight", dt, {p.n_embd, kv_dim}, 0.0f, in_std);
    normal(b + "attn_v.weight", dt, {p.n_embd, kv_dim}, 0.0f, in_std);
    normal(b + "attn_output.weight", dt, {q_dim, p.n_embd}, 0.0f, damp / std::sqrt(float(q_dim)));
    normal(b + "ffn_norm.weight", GgmlType::F32, {p.n_embd}, 1.0f, 0.1f);
    const bool moe = p.n_expert > 0 && (p.arch != "llama4" || (l + 1) % p.moe_layer_step == 0);
    if (moe) {
      const float down_std = damp / std::sqrt(float(p.n_ff_exp));
      normal(b + "ffn_gate_inp.weight", GgmlType::F32, {p.n_embd, p.n_expert}, 0.0f, 2.0f * in_std);
      normal(b + "ffn_gate_exps.weight", dt, {p.n_embd, p.n_ff_exp, p.n_expert}, 0.0f, in_std);
      normal(b + "ffn_up_exps.weight", dt, {p.n_embd, p.n_ff_exp, p.n_expert}, 0.0f, in_std);
      normal(b + "ffn_down_exps.weight", dt, {p.n_ff_exp, p.n_embd, p.n_expert}, 0.0f, down_std);
      if (p.arch == "llama4") {
        normal(b + "ffn_gate_shexp.weight", dt, {p.n_embd, p.n_ff_exp}, 0.0f, in_std);
        normal(b + "ffn_up_shexp.weight", dt, {p.n_embd, p.n_ff_exp}, 0.0f, in_std);
        normal(b + "ffn_down_shexp.weight", dt, {p.n_ff_exp, p.n_embd}, 0.0f, down_std);
      }
    } else {
      normal(b + "ffn_gate.weight", dt, {p.n_embd, p.n_ff}, 0.0f, in_std);
      normal(b + "ffn_up.weight", dt, {p.n_embd, p.n_ff}, 0.0f, in_std);
      normal(b + "ffn_down.weight", dt, {p.n_ff, p.n_embd}, 0.0f, damp / std::sqrt(float(p.n_ff)));
    }
  }
  normal("output_norm.weight", GgmlType::F32, {p.n_embd}, 1.0f, 0.1f);
  // Logit std of about 3 gives peaked, well-separated next-token distributions.
  normal("output.weight", dt, {p.n_embd, n_vocab}, 0.0f, 3.0f * in_std);
}

}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> kPresets = {
      {"tiny-scout", "llama4",
       "Llama 4 Scout in miniature: 4 layers (3 chunked-RoPE + 1 NoPE), 16 experts top-1 + shared "
       "expert on every layer, GQA 4/2 heads of 64",
       384, 32768, 256, 4, 4, 2, 512, 16, 1, 256, 1, 500000.0f, 1e-5f, 16.0f, 8192},
      {"tiny-maverick", "llama4",
       "Llama 4 Maverick in miniature: 4 layers alternating dense and MoE (interleave step 2), "
       "32 experts top-1 + shared expert",
       384, 32768, 256, 4, 4, 2, 512, 32, 1, 256, 2, 500000.0f, 1e-5f, 16.0f, 8192},
      {"scout", "llama4",
       "the real Llama 4 Scout 17B-16E shapes: hidden 5120, 40 heads / 8 KV heads of 128, "
       "16 experts top-1 + shared expert of 8192, dense FFN 16384, vocab 202048, 48 layers",
       202048, 10485760, 5120, 48, 40, 8, 16384, 16, 1, 8192, 1, 500000.0f, 1e-5f, 16.0f, 8192},
      {"tiny-llama", "llama",
       "a dense Llama 3-style model in miniature: 4 layers, GQA 4/2 heads of 64, FFN 512",
       384, 8192, 256, 4, 4, 2, 512, 0, 0, 0, 0, 500000.0f, 1e-5f, 0.0f, 8192},
  };
  return kPresets;
}

const Preset& find_preset(const std::string& arch, const std::string& name) {
  std::string known;
  for (const auto& p : presets()) {
    if (p.name == name && p.arch == arch) return p;
    if (p.arch == arch) known += (known.empty() ? "" : ", ") + p.name;
  }
  if (known.empty()) throw Error("unknown architecture '" + arch + "' (llama, llama4)");
  throw Error("unknown preset '" + name + "' for " + arch + " (known: " + known + ")");
}

void write_random_model(const RandomModelOptions& opt, const std::function<void(size_t, size_t)>& progress) {
  const Preset& p = find_preset(opt.arch, opt.preset);
  if (opt.output.empty()) throw Error("no output path given (-o)");
  if (opt.layers < 0) throw Error("--layers must be positive");
  const int64_t n_layer = opt.layers > 0 ? opt.layers : p.n_layer;
  gguf::Writer w;
  set_hparams(w, p, n_layer, p.n_vocab, opt.dtype);  // vocab_size fixed below if copied
  const int64_t n_vocab = set_tokenizer(w, opt, p);
  w.set(p.arch + ".vocab_size", Value::of_u32(uint32_t(n_vocab)));
  add_weights(w, p, n_layer, n_vocab, opt.seed, opt.dtype);
  w.write(opt.output, progress);
}

}  // namespace scout::model
