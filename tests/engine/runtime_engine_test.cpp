// The runtime: batching never changes results (many sequences at once, mixed prefill and
// decode, any thread count), incremental decoding equals one prefill, log-likelihoods equal
// sums of log-softmax, sampling filters and seeds, stop conditions and clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <random>

#include "common/test_paths.h"
#include "engine/gguf/gguf.h"
#include "engine/model/random_model.h"
#include "engine/runtime/engine.h"
#include "engine/runtime/sampling.h"
#include "engine/runtime/prompt_file.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"

namespace scout::runtime {
namespace {

namespace fs = std::filesystem;

fs::path random_model(const std::string& arch, const std::string& preset) {
  static std::mutex mu;
  static std::map<std::string, fs::path> made;
  std::lock_guard lock(mu);
  if (auto it = made.find(preset); it != made.end()) return it->second;
  const fs::path path = test::scratch_dir("runtime-" + preset) / (preset + ".gguf");
  model::RandomModelOptions o;
  o.arch = arch;
  o.preset = preset;
  o.output = path.string();
  model::write_random_model(o);
  return made[preset] = path;
}

fs::path tiny_scout() { return random_model("llama4", "tiny-scout"); }

// Prompts of different lengths, BOS first, random ids from the vocabulary.
std::vector<Tokens> random_prompts(size_t n, int64_t n_vocab, uint32_t seed, int min_len = 3, int max_len = 40) {
  std::mt19937 rng(seed);
  std::vector<Tokens> out;
  for (size_t i = 0; i < n; ++i) {
    Tokens t = {0};
    const int len = min_len + int(rng() % uint32_t(max_len - min_len + 1));
    for (int j = 1; j < len; ++j) t.push_back(int32_t(rng() % uint32_t(n_vocab)));
    out.push_back(t);
  }
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<GenerationRequest> greedy_requests(const std::vector<Tokens>& prompts, int64_t n) {
  std::vector<GenerationRequest> reqs;
  for (const auto& p : prompts) {
    GenerationRequest r;
    r.prompt = p;
    r.max_tokens = n;
    r.stop_at_eog = false;
    reqs.push_back(r);
  }
  return reqs;
}

// ---------------------------------------------------------------------------- batching

void expect_batch_invariant(const fs::path& model, size_t n_prompts, int max_len, int64_t n_gen) {
  EngineOptions tight;
  tight.n_batch = 7;   // prefill split into chunks that share forward passes with decodes
  tight.max_seqs = 3;  // sequences enter as others finish
  auto together = Engine::load(model.string());
  auto constrained = Engine::load(model.string(), tight);
  const auto prompts = random_prompts(n_prompts, together->hparams().n_vocab, 42, 3, max_len);

  const auto all = together->prompt_logits(prompts);
  const auto all_tight = constrained->prompt_logits(prompts);
  const auto gen_all = together->generate(greedy_requests(prompts, n_gen));
  const auto gen_tight = constrained->generate(greedy_requests(prompts, n_gen));
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto alone = together->prompt_logits(std::span(&prompts[i], 1));
    EXPECT_TRUE(same_bits(alone[0], all[i])) << "prompt " << i << ": logits differ when batched";
    EXPECT_TRUE(same_bits(alone[0], all_tight[i])) << "prompt " << i << ": logits differ with n_batch 7";
    const auto gen_alone = together->generate(greedy_requests({prompts[i]}, n_gen));
    EXPECT_EQ(gen_alone[0].tokens, gen_all[i].tokens) << "prompt " << i;
    EXPECT_EQ(gen_alone[0].tokens, gen_tight[i].tokens) << "prompt " << i;
    EXPECT_EQ(int64_t(gen_alone[0].tokens.size()), n_gen);
  }
}

TEST(RuntimeBatching, EightPromptsTogetherEqualOneByOne) { expect_batch_invariant(tiny_scout(), 8, 40, 10); }

TEST(RuntimeBatching, QuantizedRealModelTogetherEqualsOneByOne) {
  const auto smol = test::smollm2_path();
  if (smol.empty()) GTEST_SKIP() << "SmolLM2 not downloaded (scripts/setup.sh)";
  expect_batch_invariant(smol, 3, 12, 3);
}

TEST(RuntimeBatching, ThreadCountDoesNotChangeLogits) {
  EngineOptions one, two;
  one.n_threads = 1;
  two.n_threads = 2;
  auto e1 = Engine::load(tiny_scout().string(), one);
  auto e2 = Engine::load(tiny_scout().string(), two);
  const auto prompts = random_prompts(3, e1->hparams().n_vocab, 7);
  const auto a = e1->prompt_logits(prompts), b = e2->prompt_logits(prompts);
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_TRUE(same_bits(a[i], b[i])) << "prompt " << i;
}

// Keys and values are always read back from the cache (F16 by default), whether they were
// written in this forward pass or an earlier one, so decoding token by token or in chunks
// gives bit-identical logits to one prefill: the bound is zero, not just F16 noise.
TEST(RuntimeBatching, IncrementalDecodeEqualsFullPrefill) {
  for (auto kv : {model::KvType::F16, model::KvType::F32}) {
    EngineOptions o;
    o.kv_type = kv;
    auto e = Engine::load(tiny_scout().string(), o);
    const Tokens t = random_prompts(1, e->hparams().n_vocab, 9, 50, 50)[0];
    const int64_t nv = e->hparams().n_vocab;
    auto full_cache = e->new_cache();
    const model::SeqInput whole{&full_cache, t, int64_t(t.size())};
    const auto full = e->forward(std::span(&whole, 1));
    for (int64_t step : {1, 3, 16}) {
      auto cache = e->new_cache();
      std::vector<float> inc;
      for (size_t i = 0; i < t.size(); i += size_t(step)) {
        const size_t n = std::min(size_t(step), t.size() - i);
        const model::SeqInput in{&cache, std::span(t).subspan(i, n), int64_t(n)};
        const auto l = e->forward(std::span(&in, 1));
        inc.insert(inc.end(), l.begin(), l.end());
      }
      ASSERT_EQ(inc.size(), size_t(nv) * t.size());
      EXPECT_TRUE(same_bits(inc, full)) << "step " << step << (kv == model::KvType::F16 ? " (F16 KV)" : " (F32 KV)");
    }
  }
}

// ---------------------------------------------------------------------------- log-likelihood

double log_softmax_at(const float* row, int64_t n, int32_t tok) {
  double m = row[0];
  for (int64_t i = 1; i < n; ++i) m = std::max(m, double(row[i]));
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(double(row[i]) - m);
  return double(row[tok]) - m - std::log(s);
}

TEST(RuntimeLoglik, EqualsSumOfLogSoftmaxOfFullLogits) {
  auto e = Engine::load(tiny_scout().string());
  const int64_t nv = e->hparams().n_vocab;
  const auto contexts = random_prompts(4, nv, 11, 2, 20);
  const auto conts = random_prompts(4, nv, 12, 2, 6);
  std::vector<LoglikRequest> reqs;
  for (size_t i = 0; i < 4; ++i) reqs.push_back({contexts[i], Tokens(conts[i].begin() + 1, conts[i].end())});
  // A continuation the model itself would pick greedily.
  const auto g = e->generate(greedy_requests({contexts[0]}, 3));
  reqs.push_back({contexts[0], g[0].tokens});

  const auto results = e->loglikelihood(reqs);
  for (size_t i = 0; i < reqs.size(); ++i) {
    Tokens all = reqs[i].context;
    all.insert(all.end(), reqs[i].continuation.begin(), reqs[i].continuation.end());
    const auto logits = e->prompt_logits(std::span(&all, 1))[0];
    double sum = 0;
    bool greedy = true;
    for (size_t j = 0; j < reqs[i].continuation.size(); ++j) {
      const float* row = logits.data() + (reqs[i].context.size() - 1 + j) * size_t(nv);
      const int32_t tok = reqs[i].continuation[j];
      const double lp = log_softmax_at(row, nv, tok);
      EXPECT_NEAR(results[i].token_logprobs[j], lp, 1e-9) << "request " << i << " token " << j;
      sum += lp;
      greedy = greedy && argmax(std::span(row, size_t(nv))) == tok;
    }
    EXPECT_NEAR(results[i].logprob, sum, 1e-9);
    EXPECT_EQ(results[i].greedy, greedy) << "request " << i;
    // Batched scoring equals scoring alone.
    const auto alone = e->loglikelihood(std::span(&reqs[i], 1));
    EXPECT_EQ(alone[0].token_logprobs, results[i].token_logprobs);
  }
  EXPECT_TRUE(results.back().greedy);
}

// Multiple-choice scoring: many continuations (one-token ones too) of a few contexts, given
// interleaved. Each context is evaluated once (the progress total counts its tokens once)
// and every log-prob equals the one read from the full logits of context + continuation.
TEST(RuntimeLoglik, SharedContextsAreEvaluatedOnceAndExactly) {
  auto e = Engine::load(tiny_scout().string());
  const int64_t nv = e->hparams().n_vocab;
  const auto contexts = random_prompts(2, nv, 21, 8, 30);
  const auto conts = random_prompts(6, nv, 22, 1, 5);
  std::vector<LoglikRequest> reqs;
  int64_t expected_total = int64_t(contexts[0].size() + contexts[1].size());
  for (size_t i = 0; i < conts.size(); ++i) {
    reqs.push_back({contexts[i % 2], conts[i]});
    expected_total += int64_t(conts[i].size()) - 1;
  }
  reqs.push_back({contexts[0], Tokens{conts[0][0]}});  // a one-token continuation
  int64_t total = 0;
  const auto results = e->loglikelihood(reqs, [&total](int64_t, int64_t t) { total = t; });
  EXPECT_EQ(total, expected_total);
  for (size_t i = 0; i < reqs.size(); ++i) {
    Tokens all = reqs[i].context;
    all.insert(all.end(), reqs[i].continuation.begin(), reqs[i].continuation.end());
    const auto logits = e->prompt_logits(std::span(&all, 1))[0];
    ASSERT_EQ(results[i].token_logprobs.size(), reqs[i].continuation.size());
    for (size_t j = 0; j < reqs[i].continuation.size(); ++j) {
      const float* row = logits.data() + (reqs[i].context.size() - 1 + j) * size_t(nv);
      EXPECT_NEAR(results[i].token_logprobs[j], log_softmax_at(row, nv, reqs[i].continuation[j]), 1e-12)
          << "request " << i << " token " << j;
    }
  }
}

// ---------------------------------------------------------------------------- sampling

TEST(RuntimeSampling, GreedyAndDegenerateFiltersPickTheArgmax) {
  EXPECT_EQ(argmax(std::vector<float>{0.1f, 2.0f, -1.0f, 2.0f}), 1);  // ties: the lower id
  const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.9f, 1.5f};
  for (SamplingParams p : {SamplingParams{0.0f}, SamplingParams{5.0f, 1}, SamplingParams{1.0f, 0, 1e-6f},
                           SamplingParams{1.0f, 0, 1.0f, 1.0f}}) {
    Sampler s(p);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(logits), 1);
  }
}

// Draw frequencies match the filtered, renormalized distribution.
TEST(RuntimeSampling, FiltersKeepTheRightTokensAndFrequencies) {
  const std::vector<float> logits = {float(std::log(0.5)), float(std::log(0.3)), float(std::log(0.15)),
                                     float(std::log(0.05))};
  struct Case {
    SamplingParams p;
    std::vector<double> want;
  };
  const std::vector<Case> cases = {
      {{1.0f, 0, 1.0f, 0.0f, 1}, {0.5, 0.3, 0.15, 0.05}},
      {{1.0f, 2, 1.0f, 0.0f, 2}, {0.5 / 0.8, 0.3 / 0.8, 0, 0}},      // top-k 2
      {{1.0f, 0, 0.7f, 0.0f, 3}, {0.5 / 0.8, 0.3 / 0.8, 0, 0}},      // top-p: 0.5 + 0.3 reaches 0.7
      {{1.0f, 0, 1.0f, 0.25f, 4}, {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}},  // min-p: p >= 0.125
  };
  for (const auto& c : cases) {
    Sampler s(c.p);
    std::vector<double> freq(4, 0.0);
    const int n = 40000;
    for (int i = 0; i < n; ++i) freq[size_t(s.sample(logits))] += 1.0 / n;
    for (size_t t = 0; t < 4; ++t)
      EXPECT_NEAR(freq[t], c.want[t], 0.012) << "seed " << c.p.seed << " token " << t;
  }
}

TEST(RuntimeSampling, TemperatureSharpensAndSeedsReproduce) {
  const std::vector<float> logits = {1.0f, 0.0f};
  Sampler cold({0.25f, 0, 1.0f, 0.0f, 5}), warm({1.0f, 0, 1.0f, 0.0f, 5});
  int cold0 = 0, warm0 = 0;
  for (int i = 0; i < 20000; ++i) cold0 += cold.sample(logits) == 0, warm0 += warm.sample(logits) == 0;
  EXPECT_NEAR(cold0 / 20000.0, 1 / (1 + std::exp(-4.0)), 0.01);
  EXPECT_NEAR(warm0 / 20000.0, 1 / (1 + std::exp(-1.0)), 0.01);

  auto e = Engine::load(tiny_scout().string());
  auto reqs = greedy_requests(random_prompts(2, e->hparams().n_vocab, 13), 12);
  for (auto& r : reqs) r.sampling = {1.0f, 50, 0.95f, 0.0f, 123};
  const auto a = e->generate(reqs), b = e->generate(reqs);
  EXPECT_EQ(a[0].tokens, b[0].tokens);
  EXPECT_EQ(a[1].tokens, b[1].tokens);
  reqs[0].sampling.seed = 124;
  EXPECT_NE(e->generate(reqs)[0].tokens, a[0].tokens);
}

TEST(RuntimeSampling, RngIsPortable) {
  Rng r(0);
  // xoshiro256** seeded by splitmix64(0): fixed values on every platform.
  EXPECT_EQ(r.next(), 0x99ec5f36cb75f2b4ull);
  const double u = Rng(1).uniform();
  EXPECT_GE(u, 0.0);
  EXPECT_LT(u, 1.0);
}

// ---------------------------------------------------------------------------- stopping

TEST(RuntimeGenerate, StopsAtTokensStringsLengthAndContext) {
  auto e = Engine::load(tiny_scout().string());
  ASSERT_NE(e->tokenizer(), nullptr) << e->tokenizer_error();
  const auto prompts = random_prompts(1, e->hparams().n_vocab, 21, 5, 5);
  const auto base = e->generate(greedy_requests(prompts, 24))[0];
  ASSERT_EQ(base.tokens.size(), 24u);
  EXPECT_EQ(base.finish, FinishReason::Length);
  EXPECT_EQ(base.text, e->tokenizer()->decode(base.tokens));

  // A stop token: generation ends before it, without it.
  size_t cut = 6;
  while (std::find(base.tokens.begin(), base.tokens.begin() + long(cut), base.tokens[cut]) != base.tokens.begin() + long(cut)) ++cut;
  auto req = greedy_requests(prompts, 24)[0];
  req.stop_tokens = {base.tokens[cut]};
  auto r = e->generate(std::span(&req, 1))[0];
  EXPECT_EQ(r.finish, FinishReason::StopToken);
  EXPECT_EQ(r.stop_token, base.tokens[cut]);
  EXPECT_EQ(r.tokens, Tokens(base.tokens.begin(), base.tokens.begin() + long(cut)));

  // A stop string from the middle of the text: the text ends where it first begins.
  ASSERT_GE(base.text.size(), 12u);
  const std::string stop = base.text.substr(base.text.size() / 2, 3);
  req = greedy_requests(prompts, 24)[0];
  req.stop_strings = {"never-appears-xyz", stop};
  r = e->generate(std::span(&req, 1))[0];
  EXPECT_EQ(r.finish, FinishReason::StopString);
  EXPECT_EQ(r.stop_string, stop);
  EXPECT_EQ(r.text, base.text.substr(0, base.text.find(stop)));
  EXPECT_LT(r.tokens.size(), base.tokens.size());

  // The context: prompt 5 tokens, context 10 -> the 6th generated token cannot be fed.
  EngineOptions small;
  small.n_ctx = 10;
  auto e10 = Engine::load(tiny_scout().string(), small);
  r = e10->generate(greedy_requests(prompts, 24))[0];
  EXPECT_EQ(r.finish, FinishReason::ContextFull);
  EXPECT_EQ(r.tokens, Tokens(base.tokens.begin(), base.tokens.begin() + 6));

  // End-of-generation tokens stop by default.
  EXPECT_FALSE(e->eog_tokens().empty());
}

// ---------------------------------------------------------------------------- errors

TEST(RuntimeErrors, PromptsLongerThanTheContextAndBadIdsAreRefused) {
  EngineOptions o;
  o.n_ctx = 8;
  auto e = Engine::load(tiny_scout().string(), o);
  const std::vector<Tokens> too_long = {Tokens(9, 1)};
  try {
    e->prompt_logits(too_long);
    FAIL() << "no error";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("context size 8"), std::string::npos) << err.what();
  }
  EXPECT_THROW(e->generate(greedy_requests(too_long, 1)), Error);
  EXPECT_THROW(e->loglikelihood(std::vector<LoglikRequest>{{Tokens(5, 1), Tokens(5, 1)}}), Error);
  EXPECT_THROW(e->loglikelihood(std::vector<LoglikRequest>{{Tokens{}, Tokens{1}}}), Error);
  const std::vector<Tokens> bad_id = {{0, int32_t(e->hparams().n_vocab)}}, empty = {Tokens{}};
  EXPECT_THROW(e->prompt_logits(bad_id), Error);
  EXPECT_THROW(e->prompt_logits(empty), Error);
  EXPECT_THROW(Sampler({-1.0f}), Error);
  EXPECT_THROW(Sampler({1.0f, 0, 0.0f}), Error);
}

// Rewrites a random model with one metadata value or one tensor's type changed.
fs::path altered_copy(const std::string& name, const std::string& arch, const std::string& bad_tensor) {
  const auto src = gguf::File::open(tiny_scout().string());
  gguf::Writer w;
  for (const auto& kv : src->metadata()) w.set(kv.key, kv.value);
  if (!arch.empty()) w.set("general.architecture", gguf::Value::of_string(arch));
  static std::vector<std::vector<uint8_t>> keep;  // zero bytes of the substituted tensors
  for (const auto& t : src->tensors()) {
    if (t.name == bad_tensor) {
      keep.emplace_back(*quant::row_bytes(quant::GgmlType::IQ2_XXS, t.dims[0]) * uint64_t(t.n_rows()), 0);
      w.add_tensor_bytes(t.name, quant::GgmlType::IQ2_XXS, t.dims, keep.back());
    } else {
      w.add_tensor_bytes(t.name, t.type, t.dims, std::span(t.data, t.n_bytes));
    }
  }
  const fs::path out = test::scratch_dir("runtime-" + name) / "m.gguf";
  w.write(out.string());
  return out;
}

TEST(RuntimeErrors, UnsupportedArchitectureAndTensorTypeAreNamed) {
  try {
    Engine::load(altered_copy("arch", "gpt2", "").string());
    FAIL() << "no error";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("unsupported architecture 'gpt2'"), std::string::npos) << err.what();
  }
  try {
    Engine::load(altered_copy("type", "", "blk.1.attn_q.weight").string());
    FAIL() << "no error";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("blk.1.attn_q.weight has type iq2_xxs"), std::string::npos) << err.what();
  }
}

TEST(RuntimePromptFile, UnescapesAndSkipsEmptyLines) {
  EXPECT_EQ(unescape_prompt("a\\nb\\tc\\\\n\\x"), "a\nb\tc\\n\\x");
  EXPECT_EQ(non_empty_lines("one\n\ntwo\n"), (std::vector<std::string>{"one", "two"}));
}

TEST(RuntimePromptFile, ParsesTokenIdsAndRejectsJunk) {
  EXPECT_EQ(parse_token_list("1 2  3"), (Tokens{1, 2, 3}));
  EXPECT_EQ(parse_token_list("[4, 5,6]\n"), (Tokens{4, 5, 6}));
  EXPECT_THROW(parse_token_list("1 x 2"), Error);
  EXPECT_THROW(parse_token_list("-1"), Error);
}

}  // namespace
}  // namespace scout::runtime
