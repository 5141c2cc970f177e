// The llama-quantize mix rules (tensor name + file type + layer -> type), with expectations
// worked by hand from llama.cpp b11312's src/llama-quant.cpp, and whole-model quantization:
// the bytes it writes, their independence from the thread count, metadata, and refusals.
// (Agreement with llama-quantize's actual output files is tests/py/test_quantize_fixture.py.)
#include <gtest/gtest.h>

#include <tbb/task_arena.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "common/test_paths.h"
#include "engine/gguf/gguf.h"
#include "engine/model/random_model.h"
#include "engine/quant/dequantize.h"
#include "engine/quant/mix_rules.h"
#include "engine/quant/quantize.h"
#include "engine/quant/quantize_model.h"
#include "engine/util/error.h"

namespace scout::quant {
namespace {

namespace fs = std::filesystem;
using T = GgmlType;
namespace F = ftype;

// ------------------------------------------------------------------ synthetic models

struct Shape {
  std::string arch = "llama";
  int64_t n_layer = 32, n_embd = 4096, n_ff = 14336, n_head = 32, n_head_kv = 8, n_vocab = 128256;
  int64_t n_expert = 0, n_ff_exp = 0, moe_step = 1;  // llama4: every moe_step-th layer is MoE
  bool tied = false;
  bool shared_expert = true;
};

// The tensor list of a model in converter order (token_embd, output, blocks), F16 weights and
// F32 norms/router/rope_freqs, as convert_hf_to_gguf writes them.
std::vector<MixTensor> tensors_of(const Shape& s) {
  std::vector<MixTensor> t;
  const int64_t hd = s.n_embd / s.n_head;
  t.push_back({"token_embd.weight", {s.n_embd, s.n_vocab}, T::F16});
  t.push_back({"output_norm.weight", {s.n_embd}, T::F32});
  if (!s.tied) t.push_back({"output.weight", {s.n_embd, s.n_vocab}, T::F16});
  if (s.arch == "llama4") t.push_back({"rope_freqs.weight", {hd / 2}, T::F32});
  for (int64_t il = 0; il < s.n_layer; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    t.push_back({b + "attn_norm.weight", {s.n_embd}, T::F32});
    t.push_back({b + "attn_q.weight", {s.n_embd, s.n_head * hd}, T::F16});
    t.push_back({b + "attn_k.weight", {s.n_embd, s.n_head_kv * hd}, T::F16});
    t.push_back({b + "attn_v.weight", {s.n_embd, s.n_head_kv * hd}, T::F16});
    t.push_back({b + "attn_output.weight", {s.n_head * hd, s.n_embd}, T::F16});
    t.push_back({b + "ffn_norm.weight", {s.n_embd}, T::F32});
    const bool moe = s.n_expert > 0 && (il + 1) % s.moe_step == 0;
    if (moe && s.arch == "llama4") {
      t.push_back({b + "ffn_gate_inp.weight", {s.n_embd, s.n_expert}, T::F32});
      t.push_back({b + "ffn_gate_exps.weight", {s.n_embd, s.n_ff_exp, s.n_expert}, T::F16});
      t.push_back({b + "ffn_up_exps.weight", {s.n_embd, s.n_ff_exp, s.n_expert}, T::F16});
      t.push_back({b + "ffn_down_exps.weight", {s.n_ff_exp, s.n_embd, s.n_expert}, T::F16});
      if (s.shared_expert) {
        t.push_back({b + "ffn_gate_shexp.weight", {s.n_embd, s.n_ff_exp}, T::F16});
        t.push_back({b + "ffn_up_shexp.weight", {s.n_embd, s.n_ff_exp}, T::F16});
        t.push_back({b + "ffn_down_shexp.weight", {s.n_ff_exp, s.n_embd}, T::F16});
      }
    } else if (moe) {  // Mixtral-style llama
      t.push_back({b + "ffn_gate_inp.weight", {s.n_embd, s.n_expert}, T::F32});
      t.push_back({b + "ffn_gate_exps.weight", {s.n_embd, s.n_ff, s.n_expert}, T::F16});
      t.push_back({b + "ffn_up_exps.weight", {s.n_embd, s.n_ff, s.n_expert}, T::F16});
      t.push_back({b + "ffn_down_exps.weight", {s.n_ff, s.n_embd, s.n_expert}, T::F16});
    } else {
      t.push_back({b + "ffn_gate.weight", {s.n_embd, s.n_ff}, T::F16});
      t.push_back({b + "ffn_up.weight", {s.n_embd, s.n_ff}, T::F16});
      t.push_back({b + "ffn_down.weight", {s.n_ff, s.n_embd}, T::F16});
    }
  }
  return t;
}

MixModel model_of(const Shape& s) {
  MixModel m;
  m.arch = s.arch;
  m.n_layer = s.n_layer;
  m.n_head = s.n_head;
  m.n_head_kv = s.n_head_kv;
  m.n_expert = s.n_expert;
  return m;
}

// name -> chosen type
std::map<std::string, T> plan(const Shape& s, int64_t ft, bool pure = false, bool imatrix = false) {
  const auto ts = tensors_of(s);
  MixOptions o;
  o.ftype = ft;
  o.pure = pure;
  o.has_imatrix = imatrix;
  const auto c = plan_mix(model_of(s), o, ts);
  std::map<std::string, T> out;
  for (size_t i = 0; i < ts.size(); ++i) out[ts[i].name] = c[i].type;
  return out;
}

std::string blk(int il, const char* what) { return "blk." + std::to_string(il) + "." + what + ".weight"; }

// use_more_bits for 32 layers, worked by hand: i < 4, i >= 28, or (i - 4) % 3 == 2.
const std::vector<int> kMoreBits32 = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
bool more_bits_32(int il) { return std::find(kMoreBits32.begin(), kMoreBits32.end(), il) != kMoreBits32.end(); }

// ------------------------------------------------------------------ file types

TEST(MixFileTypes, NamesIdsAndAliases) {
  EXPECT_EQ(mix_file_type_from_name("Q4_K_M"), F::Q4_K_M);
  EXPECT_EQ(mix_file_type_from_name("q4_k_m"), 15);
  EXPECT_EQ(mix_file_type_from_name("Q4_K"), F::Q4_K_M);
  EXPECT_EQ(mix_file_type_from_name("Q5_K"), F::Q5_K_M);
  EXPECT_EQ(mix_file_type_from_name("Q3_K"), F::Q3_K_M);
  EXPECT_EQ(mix_file_type_from_name("F16"), 1);
  EXPECT_EQ(mix_file_type_from_name("BF16"), 32);
  EXPECT_EQ(mix_file_type_from_name("Q8_0"), 7);
  EXPECT_EQ(mix_file_type_from_name("Q5_0"), 8);
  EXPECT_EQ(mix_file_type_from_name("Q6_K"), 18);
  EXPECT_EQ(mix_file_type_from_name("F32"), 0);
  EXPECT_FALSE(mix_file_type_from_name("Q4_K_X"));
  EXPECT_FALSE(mix_file_type_from_name(""));
  EXPECT_EQ(find_mix_file_type(F::Q4_K_S)->default_type, T::Q4_K);
  EXPECT_EQ(find_mix_file_type(F::IQ2_S)->default_type, T::IQ2_XS);  // sic, as llama.cpp
  EXPECT_EQ(find_mix_file_type(F::IQ3_M)->default_type, T::IQ3_S);
  EXPECT_EQ(mix_file_type_name(17), "Q5_K_M");
  EXPECT_EQ(mix_file_type_name(5), "ftype 5");
}

// ------------------------------------------------------------------ never quantized

TEST(MixRules, TensorsNeverQuantized) {
  EXPECT_FALSE(tensor_allows_quantization("output_norm.weight", 1));
  EXPECT_FALSE(tensor_allows_quantization("blk.0.attn_norm.weight", 1));
  EXPECT_FALSE(tensor_allows_quantization("rope_freqs.weight", 1));
  EXPECT_FALSE(tensor_allows_quantization("blk.3.ffn_gate_inp.weight", 2));   // the router, 2-D
  EXPECT_FALSE(tensor_allows_quantization("blk.3.attn_q_norm.weight", 2));    // any *_norm.weight
  EXPECT_FALSE(tensor_allows_quantization("blk.0.attn_q.bias", 2));           // not a weight
  EXPECT_FALSE(tensor_allows_quantization("position_embd.weight", 2));
  EXPECT_TRUE(tensor_allows_quantization("blk.3.ffn_gate_exps.weight", 3));
  EXPECT_TRUE(tensor_allows_quantization("token_embd.weight", 2));
  EXPECT_TRUE(tensor_allows_quantization("output.weight", 2));

  Shape s;
  s.arch = "llama4";
  s.n_layer = 4;
  s.n_embd = 256;
  s.n_head = 4;
  s.n_head_kv = 2;
  s.n_vocab = 384;
  s.n_expert = 16;
  s.n_ff_exp = 256;
  for (int64_t ft : {F::Q4_K_M, F::Q8_0, F::F16, F::BF16, F::Q4_0, F::Q6_K}) {
    auto p = plan(s, ft);
    EXPECT_EQ(p["rope_freqs.weight"], T::F32);
    EXPECT_EQ(p["output_norm.weight"], T::F32);
    EXPECT_EQ(p["blk.2.ffn_gate_inp.weight"], T::F32);
    EXPECT_EQ(p["blk.2.attn_norm.weight"], T::F32);
    EXPECT_EQ(p["blk.2.ffn_norm.weight"], T::F32);
  }
}

// ------------------------------------------------------------------ dense llama, 32 layers

TEST(MixRules, Llama8B_Q4_K_M) {
  auto p = plan(Shape{}, F::Q4_K_M);
  EXPECT_EQ(p["output.weight"], T::Q6_K);
  EXPECT_EQ(p["token_embd.weight"], T::Q4_K);  // not tied: the default type
  for (int il = 0; il < 32; ++il) {
    SCOPED_TRACE(il);
    const T more = more_bits_32(il) ? T::Q6_K : T::Q4_K;
    EXPECT_EQ(p[blk(il, "attn_v")], more);
    EXPECT_EQ(p[blk(il, "ffn_down")], more);
    EXPECT_EQ(p[blk(il, "attn_q")], T::Q4_K);
    EXPECT_EQ(p[blk(il, "attn_k")], T::Q4_K);
    EXPECT_EQ(p[blk(il, "attn_output")], T::Q4_K);
    EXPECT_EQ(p[blk(il, "ffn_gate")], T::Q4_K);
    EXPECT_EQ(p[blk(il, "ffn_up")], T::Q4_K);
  }
}

TEST(MixRules, Llama8B_Q5_K_M_and_K_S) {
  auto m = plan(Shape{}, F::Q5_K_M);
  auto s4 = plan(Shape{}, F::Q4_K_S);
  auto s5 = plan(Shape{}, F::Q5_K_S);
  EXPECT_EQ(m["output.weight"], T::Q6_K);
  EXPECT_EQ(s4["output.weight"], T::Q6_K);
  for (int il = 0; il < 32; ++il) {
    SCOPED_TRACE(il);
    EXPECT_EQ(m[blk(il, "attn_v")], more_bits_32(il) ? T::Q6_K : T::Q5_K);
    EXPECT_EQ(m[blk(il, "ffn_down")], more_bits_32(il) ? T::Q6_K : T::Q5_K);
    EXPECT_EQ(m[blk(il, "attn_q")], T::Q5_K);
    // Q4_K_S: the first 4 attn_v and the first n_layer/8 = 4 ffn_down get Q5_K.
    EXPECT_EQ(s4[blk(il, "attn_v")], il < 4 ? T::Q5_K : T::Q4_K);
    EXPECT_EQ(s4[blk(il, "ffn_down")], il < 4 ? T::Q5_K : T::Q4_K);
    // Q5_K_S: no promotions.
    EXPECT_EQ(s5[blk(il, "attn_v")], T::Q5_K);
    EXPECT_EQ(s5[blk(il, "ffn_down")], T::Q5_K);
  }
}

TEST(MixRules, Llama8B_SingleTypeMixes) {
  auto q6 = plan(Shape{}, F::Q6_K);
  auto q8 = plan(Shape{}, F::Q8_0);
  auto q40 = plan(Shape{}, F::Q4_0);
  auto q51 = plan(Shape{}, F::Q5_1);
  auto f16 = plan(Shape{}, F::F16);
  auto bf16 = plan(Shape{}, F::BF16);
  EXPECT_EQ(q6["output.weight"], T::Q6_K);
  EXPECT_EQ(q8["output.weight"], T::Q8_0);   // the default type already is Q8_0
  EXPECT_EQ(q40["output.weight"], T::Q6_K);  // every other quantized mix: Q6_K
  EXPECT_EQ(q51["output.weight"], T::Q6_K);
  EXPECT_EQ(f16["output.weight"], T::F16);   // float mixes: no rules at all
  EXPECT_EQ(bf16["output.weight"], T::BF16);
  EXPECT_EQ(q40["token_embd.weight"], T::Q4_0);
  EXPECT_EQ(q8["token_embd.weight"], T::Q8_0);
  for (int il : {0, 5, 31}) {
    for (const char* w : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}) {
      EXPECT_EQ(q6[blk(il, w)], T::Q6_K) << w;
      EXPECT_EQ(q8[blk(il, w)], T::Q8_0) << w;
      EXPECT_EQ(q40[blk(il, w)], T::Q4_0) << w;  // no imatrix: no Q4_1 ffn_down
      EXPECT_EQ(f16[blk(il, w)], T::F16) << w;
    }
  }
  // With an importance matrix, Q4_0 guards the first n_layer/8 ffn_down with Q4_1.
  auto q40i = plan(Shape{}, F::Q4_0, false, true);
  EXPECT_EQ(q40i[blk(3, "ffn_down")], T::Q4_1);
  EXPECT_EQ(q40i[blk(4, "ffn_down")], T::Q4_0);
}

TEST(MixRules, TiedEmbeddingIsTheOutput) {
  Shape s;
  s.tied = true;
  EXPECT_EQ(plan(s, F::Q4_K_M)["token_embd.weight"], T::Q6_K);
  EXPECT_EQ(plan(s, F::Q4_0)["token_embd.weight"], T::Q6_K);
  EXPECT_EQ(plan(s, F::Q8_0)["token_embd.weight"], T::Q8_0);
  EXPECT_EQ(plan(s, F::F16)["token_embd.weight"], T::F16);
}

TEST(MixRules, PureKeepsTheDefaultType) {
  auto p = plan(Shape{}, F::Q4_K_M, /*pure=*/true);
  EXPECT_EQ(p["output.weight"], T::Q4_K);
  EXPECT_EQ(p[blk(0, "attn_v")], T::Q4_K);
  EXPECT_EQ(p[blk(0, "ffn_down")], T::Q4_K);
  EXPECT_EQ(p["output_norm.weight"], T::F32);
}

// ------------------------------------------------------------------ row lengths: fallbacks

TEST(MixRules, FallbackTypes) {
  EXPECT_EQ(fallback_type(T::Q4_K, 576), T::Q5_0);
  EXPECT_EQ(fallback_type(T::Q5_K, 576), T::Q5_1);
  EXPECT_EQ(fallback_type(T::Q6_K, 576), T::Q8_0);
  EXPECT_EQ(fallback_type(T::Q3_K, 576), T::Q4_0);
  EXPECT_EQ(fallback_type(T::Q2_K, 576), T::Q4_0);
  EXPECT_EQ(fallback_type(T::IQ2_XS, 576), T::IQ4_NL);
  EXPECT_EQ(fallback_type(T::Q4_K, 512), T::Q4_K);
  EXPECT_EQ(fallback_type(T::Q4_K, 40), T::F16);  // not even a multiple of 32
  EXPECT_EQ(fallback_type(T::Q8_0, 40), T::F16);
  EXPECT_EQ(fallback_type(T::Q4_0, 64), T::Q4_0);
}

// SmolLM2-135M's shapes: hidden 576 (not a multiple of 256), FFN 1536 (= 6 * 256), 30
// layers, 9 heads / 3 KV heads, tied embeddings.
Shape smollm2() {
  Shape s;
  s.n_layer = 30;
  s.n_embd = 576;
  s.n_ff = 1536;
  s.n_head = 9;
  s.n_head_kv = 3;
  s.n_vocab = 49152;
  s.tied = true;
  return s;
}

TEST(MixRules, SmolLM2_Q4_K_M) {
  auto p = plan(smollm2(), F::Q4_K_M);
  // The tied embedding's row (576) is not whole Q4_K blocks: the output rule picks Q8_0.
  EXPECT_EQ(p["token_embd.weight"], T::Q8_0);
  // use_more_bits(i, 30): i < 3, i >= 26, or (i - 3) % 3 == 2.
  const std::vector<int> more = {0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 26, 27, 28, 29};
  for (int il = 0; il < 30; ++il) {
    SCOPED_TRACE(il);
    const bool mb = std::find(more.begin(), more.end(), il) != more.end();
    EXPECT_EQ(p[blk(il, "attn_v")], mb ? T::Q8_0 : T::Q5_0);    // Q6_K/Q4_K fall back
    EXPECT_EQ(p[blk(il, "ffn_down")], mb ? T::Q6_K : T::Q4_K);  // rows of 1536 fit
    EXPECT_EQ(p[blk(il, "attn_q")], T::Q5_0);
    EXPECT_EQ(p[blk(il, "ffn_up")], T::Q5_0);
  }
  auto p5 = plan(smollm2(), F::Q5_K_M);
  EXPECT_EQ(p5[blk(4, "attn_q")], T::Q5_1);
  EXPECT_EQ(p5[blk(4, "ffn_down")], T::Q5_K);
  EXPECT_EQ(p5[blk(5, "ffn_down")], T::Q6_K);
  auto p6 = plan(smollm2(), F::Q6_K);
  EXPECT_EQ(p6[blk(4, "attn_q")], T::Q8_0);
  EXPECT_EQ(p6["token_embd.weight"], T::Q8_0);
  EXPECT_EQ(plan(smollm2(), F::Q4_0)["token_embd.weight"], T::Q8_0);  // Q6_K -> Q8_0 fallback
}

// ------------------------------------------------------------------ llama4 (MoE)

Shape scout48() {  // Llama 4 Scout's text shapes
  Shape s;
  s.arch = "llama4";
  s.n_layer = 48;
  s.n_embd = 5120;
  s.n_ff = 16384;
  s.n_head = 40;
  s.n_head_kv = 8;
  s.n_vocab = 202048;
  s.n_expert = 16;
  s.n_ff_exp = 8192;
  return s;
}

TEST(MixRules, Scout_Q4_K_M) {
  auto p = plan(scout48(), F::Q4_K_M);
  EXPECT_EQ(p["output.weight"], T::Q6_K);
  EXPECT_EQ(p["token_embd.weight"], T::Q4_K);
  // use_more_bits(i, 48): i < 6, i >= 42, or (i - 6) % 3 == 2 (8, 11, …, 41).
  for (int il = 0; il < 48; ++il) {
    SCOPED_TRACE(il);
    const bool mb = il < 6 || il >= 42 || (il - 6) % 3 == 2;
    const T more = mb ? T::Q6_K : T::Q4_K;
    EXPECT_EQ(p[blk(il, "attn_v")], more);
    // The layer of an expert tensor comes from its name; routed and shared down agree.
    EXPECT_EQ(p[blk(il, "ffn_down_exps")], more);
    EXPECT_EQ(p[blk(il, "ffn_down_shexp")], more);
    EXPECT_EQ(p[blk(il, "ffn_gate_exps")], T::Q4_K);
    EXPECT_EQ(p[blk(il, "ffn_up_exps")], T::Q4_K);
    EXPECT_EQ(p[blk(il, "ffn_gate_shexp")], T::Q4_K);
    EXPECT_EQ(p[blk(il, "attn_k")], T::Q4_K);  // 16 experts: the n_expert == 8 rules do not apply
    EXPECT_EQ(p[blk(il, "attn_output")], T::Q4_K);
    EXPECT_EQ(p[blk(il, "ffn_gate_inp")], T::F32);
  }
}

TEST(MixRules, MaverickInterleavedLayersByName) {
  Shape s = scout48();
  s.n_expert = 128;
  s.moe_step = 2;  // odd layers MoE, even layers dense
  auto p = plan(s, F::Q5_K_M);
  EXPECT_EQ(p[blk(0, "ffn_down")], T::Q6_K);         // dense, layer 0
  EXPECT_EQ(p[blk(7, "ffn_down_exps")], T::Q5_K);    // MoE, layer 7 (not more bits)
  EXPECT_EQ(p[blk(8, "ffn_down")], T::Q6_K);         // dense, layer 8 ((8 - 6) % 3 == 2)
  EXPECT_EQ(p[blk(11, "ffn_down_exps")], T::Q6_K);
  EXPECT_EQ(p[blk(11, "ffn_down_shexp")], T::Q6_K);
  EXPECT_EQ(p[blk(12, "ffn_down")], T::Q5_K);
  EXPECT_EQ(p[blk(47, "ffn_down_exps")], T::Q6_K);
}

TEST(MixRules, MoELayerMustBeFoundFromTheName) {
  Shape s = scout48();
  auto ts = tensors_of(s);
  ts.push_back({"extra.ffn_down.weight", {8192, 5120}, T::F16});  // no "blk.N."
  MixOptions o;
  o.ftype = F::Q4_K_M;
  EXPECT_THROW(plan_mix(model_of(s), o, ts), Error);
  ts.back().name = "blk.48.ffn_down.weight";  // beyond block_count
  EXPECT_THROW(plan_mix(model_of(s), o, ts), Error);
  // Dense models count instead, so the same name is fine there.
  Shape d;
  auto td = tensors_of(d);
  td.push_back({"extra.ffn_down.weight", {14336, 4096}, T::F16});
  EXPECT_NO_THROW(plan_mix(model_of(d), o, td));
}

// ------------------------------------------------------------------ 8 experts, 70B

TEST(MixRules, EightExpertsBumpAttention) {
  Shape s;  // Mixtral 8x7B-like llama
  s.n_expert = 8;
  auto p = plan(s, F::Q4_K_M);
  auto q40 = plan(s, F::Q4_0);
  for (int il : {0, 5, 31}) {
    EXPECT_EQ(p[blk(il, "attn_v")], T::Q8_0);
    EXPECT_EQ(p[blk(il, "attn_k")], T::Q8_0);
    EXPECT_EQ(p[blk(il, "attn_output")], T::Q5_K);
    EXPECT_EQ(q40[blk(il, "attn_v")], T::Q8_0);      // whatever the mix
    EXPECT_EQ(q40[blk(il, "attn_k")], T::Q8_0);
    EXPECT_EQ(q40[blk(il, "attn_output")], T::Q4_0);  // Q4_0 is not in the attn_output list
  }
  EXPECT_EQ(p[blk(5, "ffn_down_exps")], T::Q4_K);
  EXPECT_EQ(p[blk(6, "ffn_down_exps")], T::Q6_K);
}

TEST(MixRules, Llama70BAttnV) {
  Shape s;
  s.n_layer = 80;
  s.n_embd = 8192;
  s.n_ff = 28672;
  s.n_head = 64;
  s.n_head_kv = 8;
  auto p = plan(s, F::Q4_K_M);
  // use_more_bits(i, 80): i < 10, i >= 70, (i - 10) % 3 == 2. Other attn_v: Q4_K -> Q5_K (70B).
  EXPECT_EQ(p[blk(10, "attn_v")], T::Q5_K);
  EXPECT_EQ(p[blk(12, "attn_v")], T::Q6_K);
  EXPECT_EQ(p[blk(10, "ffn_down")], T::Q4_K);  // ffn_down has no 70B rule
  Shape mha = s;
  mha.n_head_kv = 64;  // no GQA: llama.cpp calls it 65B, not 70B
  EXPECT_EQ(plan(mha, F::Q4_K_M)[blk(10, "attn_v")], T::Q4_K);
}

// ------------------------------------------------------------------ order and counters

TEST(MixRules, LlamaQuantizeOrder) {
  std::vector<MixTensor> t = {
      {"blk.10.attn_v.weight", {64, 64}, T::F16}, {"blk.9.attn_v.weight", {64, 64}, T::F16},
      {"output.weight", {64, 64}, T::F16},        {"blk.9.attn_k.weight", {64, 64}, T::F16},
      {"token_embd.weight", {64, 64}, T::F16},    {"blk.0.ffn_up.weight", {64, 64}, T::F16},
      {"blk.2.attn_q.weight", {64, 64}, T::F16},
  };
  std::vector<std::string> names;
  for (size_t i : llama_quantize_order(t)) names.push_back(t[i].name);
  const std::vector<std::string> want = {"output.weight",        "token_embd.weight",    "blk.0.ffn_up.weight",
                                         "blk.2.attn_q.weight",  "blk.9.attn_k.weight",  "blk.9.attn_v.weight",
                                         "blk.10.attn_v.weight"};
  EXPECT_EQ(names, want);
}

TEST(MixRules, CountersFollowLayerOrderNotFileOrder) {
  // Dense models count attn_v and ffn_down in llama-quantize's order, so a file listing its
  // blocks in another order gets the same types.
  Shape s;
  auto ts = tensors_of(s);
  std::reverse(ts.begin(), ts.end());
  MixOptions o;
  o.ftype = F::Q4_K_M;
  const auto c = plan_mix(model_of(s), o, ts);
  for (size_t i = 0; i < ts.size(); ++i) {
    for (int il : {4, 6, 7, 9}) {
      if (ts[i].name == blk(il, "ffn_down") || ts[i].name == blk(il, "attn_v"))
        EXPECT_EQ(c[i].type, more_bits_32(il) ? T::Q6_K : T::Q4_K) << ts[i].name;
    }
  }
}

TEST(MixRules, RulesBeyondOurQuantizers) {
  // Planning covers every mix (for --dry-run); only writing needs the quantizers.
  auto q3 = plan(Shape{}, F::Q3_K_M);
  EXPECT_EQ(q3[blk(0, "attn_v")], T::Q5_K);   // the first two attn_v
  EXPECT_EQ(q3[blk(1, "attn_v")], T::Q5_K);
  EXPECT_EQ(q3[blk(2, "attn_v")], T::Q4_K);
  EXPECT_EQ(q3[blk(1, "ffn_down")], T::Q5_K);  // i < 32/16
  EXPECT_EQ(q3[blk(2, "ffn_down")], T::Q4_K);
  EXPECT_EQ(q3[blk(2, "attn_output")], T::Q4_K);
  EXPECT_EQ(q3[blk(2, "attn_q")], T::Q3_K);
  auto q2 = plan(Shape{}, F::Q2_K);
  EXPECT_EQ(q2[blk(2, "attn_v")], T::Q4_K);  // n_gqa = 4
  EXPECT_EQ(q2[blk(2, "ffn_down")], T::Q3_K);
  auto mx = plan(scout48(), F::MXFP4_MOE);
  EXPECT_EQ(mx[blk(0, "ffn_up_exps")], T::MXFP4);
  EXPECT_EQ(mx[blk(0, "ffn_up_shexp")], T::Q8_0);
  EXPECT_EQ(mx["output.weight"], T::Q8_0);
}

// ------------------------------------------------------------------ whole-model quantization

fs::path tiny_model(const std::string& preset, const std::string& arch, T dtype) {
  const fs::path dir = test::scratch_dir("quantize-model-" + preset);
  const fs::path path = dir / (preset + ".gguf");
  if (!fs::exists(path)) {
    model::RandomModelOptions o;
    o.arch = arch;
    o.preset = preset;
    o.dtype = dtype;
    o.output = path.string();
    model::write_random_model(o);
  }
  return path;
}

std::vector<uint8_t> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(QuantizeModel, ConvertRowsIsThreadCountInvariant) {
  const int64_t n = 512, rows = 300;
  std::vector<float> x(size_t(n * rows));
  uint32_t s = 1;
  for (auto& v : x) {
    s = s * 1664525u + 1013904223u;
    v = float(int32_t(s >> 8) - (1 << 23)) / float(1 << 22);
  }
  const auto* src = reinterpret_cast<const uint8_t*>(x.data());
  for (T to : {T::Q4_K, T::Q6_K, T::Q8_0, T::Q4_0, T::F16}) {
    const size_t bytes = row_bytes(to, n).value() * rows;
    std::vector<uint8_t> one(bytes), many(bytes), ref(bytes);
    tbb::task_arena(1).execute([&] { convert_rows(T::F32, src, to, one.data(), n, rows); });
    tbb::task_arena(2).execute([&] { convert_rows(T::F32, src, to, many.data(), n, rows); });
    for (int64_t r = 0; r < rows; ++r) quantize_row(to, x.data() + r * n, ref.data() + r * row_bytes(to, n).value(), n);
    EXPECT_EQ(one, ref) << type_label(to);
    EXPECT_EQ(many, ref) << type_label(to);
  }
}

TEST(QuantizeModel, TinyScoutQ4_K_M) {
  const fs::path in_path = tiny_model("tiny-scout", "llama4", T::F16);
  const fs::path dir = in_path.parent_path();
  QuantizeOptions o;
  o.input = in_path.string();
  o.output = (dir / "q4km-t1.gguf").string();
  o.ftype = F::Q4_K_M;
  o.threads = 1;
  const auto plan = quantize_model(o);
  o.output = (dir / "q4km-t3.gguf").string();
  o.threads = 3;
  quantize_model(o);
  EXPECT_EQ(read_all(dir / "q4km-t1.gguf"), read_all(dir / "q4km-t3.gguf")) << "bytes depend on threads";

  auto in = gguf::File::open(in_path.string());
  auto out = gguf::File::open(o.output);
  EXPECT_EQ(out->get_int("general.file_type"), F::Q4_K_M);
  EXPECT_EQ(out->get_int("general.quantization_version"), 2);
  // Every other key copied, in order; the two set keys last (as llama-quantize's gguf_set_*).
  std::vector<std::string> in_keys, out_keys;
  for (const auto& kv : in->metadata())
    if (kv.key != "general.file_type" && kv.key != "general.quantization_version") in_keys.push_back(kv.key);
  for (const auto& kv : out->metadata()) out_keys.push_back(kv.key);
  in_keys.push_back("general.quantization_version");
  in_keys.push_back("general.file_type");
  EXPECT_EQ(out_keys, in_keys);

  ASSERT_EQ(out->tensors().size(), in->tensors().size());
  EXPECT_EQ(out->tensors().front().name, "output.weight");  // llama-quantize's order
  for (const auto& p : plan.tensors) {
    const auto* ot = out->tensor(p.name);
    const auto* it = in->tensor(p.name);
    ASSERT_TRUE(ot && it) << p.name;
    EXPECT_EQ(ot->type, p.to) << p.name;
    EXPECT_EQ(ot->dims, it->dims) << p.name;
    if (p.action == TensorAction::Copy) {
      EXPECT_EQ(0, std::memcmp(ot->data, it->data, it->n_bytes)) << p.name;
      continue;
    }
    // Converted bytes = the reference quantizer on the dequantized rows, row by row.
    const int64_t n = it->dims[0];
    std::vector<float> row(static_cast<size_t>(n));
    std::vector<uint8_t> q(row_bytes(p.to, n).value());
    for (int64_t r : {int64_t(0), it->n_rows() / 2, it->n_rows() - 1}) {
      dequantize_row(it->type, it->data + r * row_bytes(it->type, n).value(), row.data(), n);
      quantize_row(p.to, row.data(), q.data(), n);
      EXPECT_EQ(0, std::memcmp(q.data(), ot->data + r * q.size(), q.size())) << p.name << " row " << r;
    }
  }
  // use_more_bits(i, 4): 4/8 = 0 and 7*4/8 = 3, so layers 2 ((2 - 0) % 3 == 2) and 3.
  EXPECT_EQ(out->tensor("blk.0.attn_v.weight")->type, T::Q4_K);
  EXPECT_EQ(out->tensor("blk.2.attn_v.weight")->type, T::Q6_K);
  EXPECT_EQ(out->tensor("blk.3.attn_v.weight")->type, T::Q6_K);
  EXPECT_EQ(out->tensor("blk.1.ffn_down_exps.weight")->type, T::Q4_K);
  EXPECT_EQ(out->tensor("blk.2.ffn_down_exps.weight")->type, T::Q6_K);
  EXPECT_EQ(out->tensor("blk.2.ffn_down_shexp.weight")->type, T::Q6_K);
  EXPECT_EQ(out->tensor("blk.0.ffn_gate_inp.weight")->type, T::F32);
  EXPECT_EQ(out->tensor("output.weight")->type, T::Q6_K);
}

TEST(QuantizeModel, RefusalsLeaveNoFile) {
  const fs::path in_path = tiny_model("tiny-llama", "llama", T::F16);
  const fs::path dir = test::scratch_dir("quantize-model-refusals");
  QuantizeOptions o;
  o.input = in_path.string();
  o.ftype = F::Q4_0;

  // Requantizing a quantized model needs allow_requantize; to float it is always allowed.
  o.output = (dir / "q40.gguf").string();
  quantize_model(o);
  o.input = o.output;
  o.output = (dir / "q40-q8.gguf").string();
  o.ftype = F::Q8_0;
  EXPECT_THROW(quantize_model(o), Error);
  EXPECT_FALSE(fs::exists(o.output));
  EXPECT_FALSE(fs::exists(o.output + ".partial"));
  o.allow_requantize = true;
  EXPECT_NO_THROW(quantize_model(o));
  o.allow_requantize = false;
  o.output = (dir / "q40-f16.gguf").string();
  o.ftype = F::F16;
  EXPECT_NO_THROW(quantize_model(o));
  // Same type: copied byte for byte (Q4_0 again, no requantize flag needed for Q4_0 tensors;
  // the Q6_K output tensor is also unchanged).
  o.output = (dir / "q40-q40.gguf").string();
  o.ftype = F::Q4_0;
  EXPECT_NO_THROW(quantize_model(o));
  {
    auto a = gguf::File::open((dir / "q40.gguf").string());
    auto b = gguf::File::open(o.output);
    for (const auto& t : a->tensors())
      EXPECT_EQ(0, std::memcmp(t.data, b->tensor(t.name)->data, t.n_bytes)) << t.name;
  }

  // A mix that needs a quantizer scout-eval lacks.
  o.input = in_path.string();
  o.output = (dir / "q3.gguf").string();
  o.ftype = F::Q3_K_M;
  EXPECT_THROW(quantize_model(o), Error);
  EXPECT_FALSE(fs::exists(o.output));

  // Unsupported architecture.
  gguf::Writer w;
  w.set("general.architecture", gguf::Value::of_string("gpt2"));
  w.set("gpt2.block_count", gguf::Value::of_u32(1));
  std::vector<uint8_t> zeros(64 * 64 * 2, 0);
  w.add_tensor_bytes("blk.0.attn_qkv.weight", T::F16, {64, 64}, zeros);
  w.write((dir / "gpt2.gguf").string());
  o.input = (dir / "gpt2.gguf").string();
  o.output = (dir / "gpt2-q8.gguf").string();
  o.ftype = F::Q8_0;
  try {
    quantize_model(o);
    ADD_FAILURE() << "gpt2 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gpt2"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(o.output));

  // Unreadable input.
  o.input = (dir / "missing.gguf").string();
  EXPECT_THROW(quantize_model(o), Error);
  EXPECT_FALSE(fs::exists(o.output));
}

}  // namespace
}  // namespace scout::quant
