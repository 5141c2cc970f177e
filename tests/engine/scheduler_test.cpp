// Continuous batching (runtime::Scheduler): requests submitted from many threads at any time
// give exactly Engine::generate's tokens, text and finish reasons and Engine::loglikelihood's
// log-probabilities; streamed pieces add up to the final text; cancel ends a sequence early.
#include "engine/runtime/scheduler.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "common/test_paths.h"
#include "engine/runtime/engine.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"

namespace scout::runtime {
namespace {

std::unique_ptr<Engine> smollm2(int64_t max_seqs) {
  EngineOptions o;
  o.n_threads = 2;
  o.n_ctx = 512;
  o.max_seqs = max_seqs;
  o.n_batch = 64;  // small, so prefills are split across steps shared with decodes
  return Engine::load(test::smollm2_path().string(), o);
}

std::vector<GenerationRequest> requests(const Engine& e) {
  const char* prompts[] = {"The capital of France is", "Once upon a time", "def add(a, b):",
                           "List three colors:", "The quick brown fox", "In 1969, the first"};
  std::vector<GenerationRequest> out;
  for (int i = 0; i < 12; ++i) {
    GenerationRequest r;
    r.prompt = e.tokenizer()->encode(prompts[i % 6], e.tokenizer()->vocab().add_bos, true);
    r.max_tokens = 6 + i % 5 * 3;
    if (i % 3 == 1) {
      r.sampling.temperature = 0.8f;
      r.sampling.top_p = 0.9f;
      r.sampling.seed = uint64_t(100 + i);
    }
    if (i % 4 == 2) r.stop_strings = {"\n", "."};
    out.push_back(r);
  }
  return out;
}

StreamRequest stream_of(const GenerationRequest& g) {
  StreamRequest s;
  s.prompt = g.prompt;
  s.max_tokens = g.max_tokens;
  s.sampling = g.sampling;
  s.stop_strings = g.stop_strings;
  return s;
}

TEST(Scheduler, ConcurrentRequestsEqualEngineGenerate) {
  auto engine = smollm2(4);
  const auto reqs = requests(*engine);
  const auto want = engine->generate(reqs);
  Scheduler sched(*engine);
  std::vector<std::promise<StreamResult>> done(reqs.size());
  std::vector<std::string> streamed(reqs.size());
  std::vector<std::thread> clients;
  for (size_t i = 0; i < reqs.size(); ++i)
    clients.emplace_back([&, i] {
      std::this_thread::sleep_for(std::chrono::milliseconds(15 * (i % 4)));  // staggered arrivals
      sched.submit(stream_of(reqs[i]), [&streamed, i](const std::string& d, const TokenLogprob*) { streamed[i] += d; },
                   [&done, i](StreamResult&& r) { done[i].set_value(std::move(r)); });
    });
  for (auto& t : clients) t.join();
  for (size_t i = 0; i < reqs.size(); ++i) {
    const auto got = done[i].get_future().get();
    EXPECT_EQ(got.generation.tokens, want[i].tokens) << "request " << i;
    EXPECT_EQ(got.generation.text, want[i].text) << "request " << i;
    EXPECT_EQ(got.generation.finish, want[i].finish) << "request " << i;
    EXPECT_EQ(streamed[i], want[i].text) << "streamed pieces of request " << i;
  }
  const auto st = sched.stats();
  EXPECT_GT(st.max_live, 1);  // requests really shared steps
  EXPECT_EQ(st.sequences_done, int64_t(reqs.size()));
}

TEST(Scheduler, PromptLogprobsEqualEngineLoglikelihood) {
  auto engine = smollm2(3);
  const auto* tok = engine->tokenizer();
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"Question: 2+2=? Answer:", " 4"}, {"The sky is", " blue and wide"}, {"Paris is in", " France"}};
  std::vector<LoglikRequest> ll;
  for (const auto& [c, x] : pairs) {
    LoglikRequest r;
    r.context = tok->encode(c, tok->vocab().add_bos, true);
    r.continuation = tok->encode(x, false, true);
    ll.push_back(r);
  }
  const auto want = engine->loglikelihood(ll);
  Scheduler sched(*engine);
  std::vector<std::promise<StreamResult>> done(ll.size());
  for (size_t i = 0; i < ll.size(); ++i) {
    StreamRequest s;
    s.prompt = ll[i].context;
    s.prompt.insert(s.prompt.end(), ll[i].continuation.begin(), ll[i].continuation.end());
    s.max_tokens = 0;
    s.prompt_logprobs = true;
    s.top_logprobs = 2;
    sched.submit(s, nullptr, [&done, i](StreamResult&& r) { done[i].set_value(std::move(r)); });
  }
  for (size_t i = 0; i < ll.size(); ++i) {
    const auto got = done[i].get_future().get();
    const size_t n_ctx = ll[i].context.size();
    ASSERT_EQ(got.prompt_logprobs.size(), n_ctx + ll[i].continuation.size() - 1);
    EXPECT_TRUE(got.generation.tokens.empty());
    double sum = 0;
    bool greedy = true;
    for (size_t k = n_ctx - 1; k < got.prompt_logprobs.size(); ++k) {
      const auto& lp = got.prompt_logprobs[k];
      sum += lp.logprob;
      ASSERT_EQ(lp.top.size(), 2u);
      EXPECT_GE(lp.top[0].second, lp.top[1].second);
      EXPECT_GE(lp.top[0].second, lp.logprob);
      greedy = greedy && lp.top[0].first == lp.token;
    }
    EXPECT_EQ(sum, want[i].logprob) << "pair " << i;  // same order of the same doubles: bit-equal
    EXPECT_EQ(greedy, want[i].greedy) << "pair " << i;
  }
}

TEST(Scheduler, CancelEndsASequenceAndStopRefusesNewOnes) {
  auto engine = smollm2(2);
  Scheduler sched(*engine);
  StreamRequest s;
  s.prompt = engine->tokenizer()->encode("Once upon a time", engine->tokenizer()->vocab().add_bos, true);
  s.max_tokens = 400;
  s.stop_at_eog = false;
  std::promise<StreamResult> done;
  std::mutex mu;
  std::condition_variable cv;
  int seen = 0;
  uint64_t id = sched.submit(
      s,
      [&](const std::string&, const TokenLogprob*) {
        std::lock_guard lk(mu);
        ++seen;
        cv.notify_all();
      },
      [&done](StreamResult&& r) { done.set_value(std::move(r)); });
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return seen >= 3; });
  }
  sched.cancel(id);
  const auto r = done.get_future().get();
  EXPECT_TRUE(r.cancelled);
  EXPECT_LT(r.generation.tokens.size(), 400u);
  sched.stop();
  EXPECT_THROW(sched.submit(s, nullptr, [](StreamResult&&) {}), Error);
  StreamRequest empty;
  Scheduler other(*engine);
  EXPECT_THROW(other.submit(empty, nullptr, [](StreamResult&&) {}), Error);
}

}  // namespace
}  // namespace scout::runtime
