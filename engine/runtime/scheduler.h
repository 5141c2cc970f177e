#pragma once
// Continuous batching for a server: requests arrive at any time from many threads and join the
// running batch at the next step, instead of waiting for a whole Engine::generate() call.
//
// One scheduler thread owns the engine's forward passes. Each step it admits waiting sequences
// (up to max_seqs live), plans one forward pass exactly as Engine::run_jobs does (a token for
// every decoding sequence, then prefill chunks within n_batch tokens), and hands each logits
// row to its sequence. Generation follows Engine::generate token for token (same sampler, stop
// tokens, stop strings, context limit); since a forward pass's rows do not depend on which
// sequences share it (engine/kernels/cpu/matmul.h), a request gets the same tokens and
// log-probabilities here as from Engine::generate / Engine::loglikelihood alone.
//
// Callbacks run on the scheduler thread: they must be quick (queue the data, notify).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/runtime/engine.h"

namespace scout::runtime {

// A token with its log-probability (log-softmax of the raw logits, in double as
// Engine::loglikelihood computes it) and the most likely tokens at that position.
struct TokenLogprob {
  int32_t token = -1;
  double logprob = 0.0;
  std::vector<std::pair<int32_t, double>> top;  // best first; ties: lowest id first
};

struct StreamRequest {
  Tokens prompt;                          // at least one token
  int64_t max_tokens = 16;                // 0: evaluate the prompt only (echo)
  SamplingParams sampling;
  bool stop_at_eog = true;
  std::vector<std::string> stop_strings;
  bool prompt_logprobs = false;           // log P(prompt[i] | prompt[:i]) for i >= 1
  bool token_logprobs = false;            // log-probabilities of the generated tokens
  int top_logprobs = 0;                   // alternatives per position (with either of the above)
};

struct StreamResult {
  GenerationResult generation;
  std::vector<TokenLogprob> prompt_logprobs;  // prompt.size() - 1 entries (for prompt[1:])
  std::vector<TokenLogprob> token_logprobs;   // one per generated token
  bool cancelled = false;
  std::string error;  // set when the forward pass failed (then nothing else is valid)
};

// A newly generated token: its text (may be empty while a possible stop string is held back,
// or hold several tokens' text released at once) and, if requested, its log-probability.
using TokenFn = std::function<void(const std::string& text_delta, const TokenLogprob* logprob)>;
using DoneFn = std::function<void(StreamResult&&)>;

struct SchedulerStats {
  int64_t steps = 0;            // forward passes
  int64_t max_live = 0;         // most sequences ever in one step
  int64_t sequences_done = 0;
};

class Scheduler {
 public:
  explicit Scheduler(Engine& engine);
  ~Scheduler();  // stop(), then joins the thread
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request; throws scout::Error (nothing queued) for an empty prompt, one longer than
  // the context, a bad token id, bad sampling parameters or after stop(). Returns an id for cancel().
  uint64_t submit(StreamRequest request, TokenFn on_token, DoneFn on_done);
  // Ends a sequence early (client gone); its on_done still runs, with cancelled = true.
  void cancel(uint64_t id);
  // Refuses new requests, finishes every queued and live one, then returns.
  void stop();

  SchedulerStats stats() const;
  Engine& engine() { return engine_; }

 private:
  struct Seq;
  void loop();
  void step(std::vector<std::unique_ptr<Seq>>& live);
  void validate(const StreamRequest& r) const;

  Engine& engine_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Seq>> waiting_;
  std::vector<uint64_t> cancelled_;
  bool stopping_ = false;
  uint64_t next_id_ = 1;
  SchedulerStats stats_;
  std::thread thread_;
};

}  // namespace scout::runtime
