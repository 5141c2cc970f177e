#include "engine/runtime/engine.h"

#include <algorithm>
#include <map>
#include <cmath>
#include <string>

#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"

namespace scout::runtime {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::Length: return "length";
    case FinishReason::StopToken: return "stop_token";
    case FinishReason::StopString: return "stop_string";
    case FinishReason::ContextFull: return "context_full";
  }
  return "?";
}

namespace detail {

// One sequence to evaluate: the tokens to feed (generation appends to them as it goes) and
// what to do with the logits rows that come back.
class Job {
 public:
  virtual ~Job() = default;
  // Logits row of feed[index], for every index >= logits_from, in order. May append to feed
  // (generation) or set finished.
  virtual void on_logits(int64_t index, std::span<const float> row) = 0;
  // Called once, when the job has nothing left to feed or has finished.
  virtual void on_finish() {}

  Tokens feed;
  int64_t fed = 0;
  int64_t logits_from = 0;
  int64_t prompt_size = 0;  // for progress: the initial size of feed
  bool finished = false;
  std::unique_ptr<model::KvCache> cache;
};

}  // namespace detail

namespace {

using detail::Job;

// log P(token) under softmax(row), in double.
double log_softmax_at(std::span<const float> row, int32_t token) {
  const float max_l = *std::max_element(row.begin(), row.end());
  double sum = 0.0;
  for (float l : row) sum += std::exp(double(l) - double(max_l));
  return double(row[size_t(token)]) - double(max_l) - std::log(sum);
}

class LogitsJob : public Job {
 public:
  LogitsJob(const Tokens& prompt, int64_t n_vocab, std::function<void(std::vector<float>&&)> done)
      : n_vocab_(n_vocab), done_(std::move(done)) {
    feed = prompt;
    prompt_size = int64_t(prompt.size());
  }
  void on_logits(int64_t index, std::span<const float> row) override {
    // Allocated once the prompt is live, so that waiting prompts hold no memory.
    if (logits_.empty()) logits_.resize(size_t(prompt_size * n_vocab_));
    std::copy(row.begin(), row.end(), logits_.begin() + index * n_vocab_);
  }
  void on_finish() override { done_(std::move(logits_)); }

 private:
  int64_t n_vocab_;
  std::function<void(std::vector<float>&&)> done_;
  std::vector<float> logits_;
};

// Several continuations of one context (the options of a multiple-choice question): the
// context is evaluated once, then each continuation is fed after it in turn, the previous
// one's positions dropped from the cache. Exact, not an approximation: attention reads keys
// back from the cache (kv_cache.h), so every position sees what one pass over context +
// continuation would show it.
class SharedContextJob : public Job {
 public:
  struct Member {
    const LoglikRequest* req;
    LoglikResult* out;
  };
  SharedContextJob(const Tokens& context, std::vector<Member> members)
      : context_size_(int64_t(context.size())), members_(std::move(members)) {
    feed = context;
    logits_from = context_size_ - 1;
    prompt_size = context_size_;
    for (const auto& m : members_) prompt_size += int64_t(m.req->continuation.size()) - 1;
  }
  void on_logits(int64_t index, std::span<const float> row) override {
    if (index == context_size_ - 1) {
      // The context's last row predicts every continuation's first token.
      for (const auto& m : members_) score(m, 0, row);
      start_next(0);
      return;
    }
    const Member& m = members_[current_];
    const size_t j = size_t(index - context_size_ + 1);
    score(m, j, row);
    if (j + 1 == m.req->continuation.size()) start_next(current_ + 1);
  }

 private:
  static void score(const Member& m, size_t j, std::span<const float> row) {
    const int32_t token = m.req->continuation[j];
    const double lp = log_softmax_at(row, token);
    m.out->token_logprobs.push_back(lp);
    m.out->logprob += lp;
    if (argmax(row) != token) m.out->greedy = false;
  }
  // Feeds the next member with more than one continuation token (the others are done),
  // after dropping the previous continuation from the feed and the cache.
  void start_next(size_t from) {
    current_ = from;
    while (current_ < members_.size() && members_[current_].req->continuation.size() < 2) ++current_;
    feed.resize(size_t(context_size_));
    fed = std::min<int64_t>(fed, context_size_);
    cache->set_size(fed);
    if (current_ == members_.size()) return;
    const Tokens& c = members_[current_].req->continuation;
    feed.insert(feed.end(), c.begin(), c.end() - 1);
  }

  int64_t context_size_;
  std::vector<Member> members_;
  size_t current_ = 0;
};

// Generation: sample from the logits of the last prompt token, then feed each sampled token
// back until a stop condition.
class GenJob : public Job {
 public:
  GenJob(const GenerationRequest& req, GenerationResult& out, const Engine& engine)
      : req_(req), out_(out), engine_(engine), sampler_(req.sampling) {
    feed = req.prompt;
    prompt_size = int64_t(feed.size());
    logits_from = prompt_size - 1;
    for (const auto& s : req.stop_strings) longest_stop_ = std::max(longest_stop_, s.size());
  }

  void on_logits(int64_t, std::span<const float> row) override {
    const int32_t token = sampler_.sample(row);
    if (is_stop_token(token)) return finish(FinishReason::StopToken, token);
    out_.tokens.push_back(token);
    if (const tok::Tokenizer* t = engine_.tokenizer()) {
      const size_t old_size = out_.text.size();
      out_.text += t->token_to_piece(token);
      if (find_stop_string(old_size)) return finish(FinishReason::StopString, -1);
    }
    if (int64_t(out_.tokens.size()) >= req_.max_tokens) return finish(FinishReason::Length, -1);
    if (int64_t(feed.size()) >= engine_.n_ctx()) return finish(FinishReason::ContextFull, -1);
    feed.push_back(token);
  }

 private:
  bool is_stop_token(int32_t token) const {
    const auto& eog = engine_.eog_tokens();
    if (req_.stop_at_eog && std::find(eog.begin(), eog.end(), token) != eog.end()) return true;
    return std::find(req_.stop_tokens.begin(), req_.stop_tokens.end(), token) != req_.stop_tokens.end();
  }

  // Earliest stop string in the text; only matches ending in the newly added bytes are new.
  bool find_stop_string(size_t old_size) {
    auto m = find_new_stop_string(out_.text, req_.stop_strings, old_size, longest_stop_);
    if (m.at == std::string::npos) return false;
    out_.stop_string = std::move(m.stop);
    out_.text.resize(m.at);
    return true;
  }

  void finish(FinishReason why, int32_t stop_token) {
    out_.finish = why;
    out_.stop_token = stop_token;
    finished = true;
  }

  const GenerationRequest& req_;
  GenerationResult& out_;
  const Engine& engine_;
  Sampler sampler_;
  size_t longest_stop_ = 0;
};

}  // namespace

std::unique_ptr<Engine> Engine::load(const std::string& path, const EngineOptions& opts) {
  std::unique_ptr<Engine> e(new Engine());
  e->opts_ = opts;
  e->model_ = model::Model::load(path, opts.model);
  const auto& hp = e->model_->hp;
  if (e->opts_.n_ctx <= 0) e->opts_.n_ctx = hp.n_ctx_train;
  if (e->opts_.n_batch <= 0) throw Error("n_batch must be positive");
  if (e->opts_.max_seqs <= 0) throw Error("max_seqs must be positive");
  e->arena_.initialize(opts.n_threads > 0 ? opts.n_threads : tbb::task_arena::automatic);
  try {
    e->tokenizer_ = std::make_unique<tok::Tokenizer>(tok::Vocab::from_gguf(*e->model_->file));
    e->eog_ = e->tokenizer_->vocab().eog;
  } catch (const Error& err) {
    e->tokenizer_error_ = err.what();
    for (const char* key : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"})
      if (e->model_->file->find(key)) e->eog_.push_back(int32_t(e->model_->file->get_int(key)));
  }
  return e;
}

Engine::~Engine() = default;

model::KvCache Engine::new_cache() const { return model::KvCache(model_->hp, opts_.kv_type, opts_.n_ctx); }

std::vector<float> Engine::forward(std::span<const model::SeqInput> batch) {
  return arena_.execute([&] { return model::forward(*model_, batch); });
}

uint64_t Engine::read_decode_weights(int64_t token) const {
  const auto set = model::decode_read_set(*model_, token);
  return arena_.execute([&] { return kernels::cpu::read_sum_parallel(set); });
}

void Engine::check_tokens(const Tokens& t, const char* what, size_t index) const {
  const std::string where = std::string(what) + " " + std::to_string(index);
  if (t.empty()) throw Error(where + " has no tokens");
  if (int64_t(t.size()) > opts_.n_ctx)
    throw Error(where + " has " + std::to_string(t.size()) + " tokens, more than the context size " +
                std::to_string(opts_.n_ctx));
  for (int32_t id : t)
    if (id < 0 || id >= model_->hp.n_vocab)
      throw Error(where + ": token id " + std::to_string(id) + " outside the vocabulary of " +
                  std::to_string(model_->hp.n_vocab));
}

namespace {

// The part of one job's feed that goes into a forward pass.
struct Part {
  Job* job;
  int64_t begin, end;
};

// One step's batch within n_batch tokens: a token for every decoding sequence first (so decodes
// are never starved by long prefills), then prefill chunks in arrival order.
std::vector<Part> plan_step(const std::vector<Job*>& live, int64_t n_batch) {
  std::vector<Part> parts;
  int64_t budget = n_batch;
  for (const bool decoding : {true, false})
    for (Job* j : live) {
      const int64_t pending = int64_t(j->feed.size()) - j->fed;
      if (budget == 0 || decoding != (pending == 1)) continue;
      const int64_t take = std::min(pending, budget);
      parts.push_back({j, j->fed, j->fed + take});
      budget -= take;
    }
  return parts;
}

}  // namespace

void Engine::run_jobs(std::vector<std::unique_ptr<Job>>& jobs, const ProgressFn& progress) {
  int64_t total = 0, done = 0;
  for (const auto& j : jobs) total += j->prompt_size;
  const int64_t n_vocab = model_->hp.n_vocab;
  size_t next = 0;
  std::vector<Job*> live;
  while (next < jobs.size() || !live.empty()) {
    while (int64_t(live.size()) < opts_.max_seqs && next < jobs.size()) {
      Job* j = jobs[next++].get();
      j->cache = std::make_unique<model::KvCache>(new_cache());
      live.push_back(j);
    }
    const std::vector<Part> parts = plan_step(live, opts_.n_batch);
    std::vector<model::SeqInput> inputs;
    for (const auto& p : parts) {
      const std::span<const int32_t> tokens(p.job->feed.data() + p.begin, size_t(p.end - p.begin));
      inputs.push_back({p.job->cache.get(), tokens, std::max<int64_t>(0, p.end - std::max(p.begin, p.job->logits_from))});
    }
    const std::vector<float> logits = forward(inputs);

    // Rows come back part by part, in order.
    const float* row = logits.data();
    for (const auto& p : parts) {
      p.job->fed = p.end;
      done += std::max<int64_t>(0, std::min(p.end, p.job->prompt_size) - p.begin);
      for (int64_t i = std::max(p.begin, p.job->logits_from); i < p.end; ++i, row += n_vocab)
        if (!p.job->finished) p.job->on_logits(i, std::span<const float>(row, size_t(n_vocab)));
    }
    if (progress) progress(done, total);
    std::erase_if(live, [](Job* j) {
      if (!j->finished && j->fed < int64_t(j->feed.size())) return false;
      j->on_finish();
      j->cache.reset();
      return true;
    });
  }
}

void Engine::prompt_logits(std::span<const Tokens> prompts,
                           const std::function<void(size_t, std::vector<float>&&)>& done, const ProgressFn& progress) {
  for (size_t i = 0; i < prompts.size(); ++i) check_tokens(prompts[i], "prompt", i);
  std::vector<std::unique_ptr<Job>> jobs;
  for (size_t i = 0; i < prompts.size(); ++i)
    jobs.push_back(std::make_unique<LogitsJob>(prompts[i], model_->hp.n_vocab,
                                               [&done, i](std::vector<float>&& l) { done(i, std::move(l)); }));
  run_jobs(jobs, progress);
}

std::vector<std::vector<float>> Engine::prompt_logits(std::span<const Tokens> prompts, const ProgressFn& progress) {
  std::vector<std::vector<float>> out(prompts.size());
  prompt_logits(prompts, [&out](size_t i, std::vector<float>&& l) { out[i] = std::move(l); }, progress);
  return out;
}

std::vector<GenerationResult> Engine::generate(std::span<const GenerationRequest> requests,
                                               const ProgressFn& progress) {
  std::vector<GenerationResult> out(requests.size());
  std::vector<std::unique_ptr<Job>> jobs;
  for (size_t i = 0; i < requests.size(); ++i) {
    check_tokens(requests[i].prompt, "prompt", i);
    if (!requests[i].stop_strings.empty() && !tokenizer_)
      throw Error("stop strings need the model's tokenizer: " + tokenizer_error_);
    Sampler check(requests[i].sampling);  // validates the parameters up front
  }
  for (size_t i = 0; i < requests.size(); ++i)
    if (requests[i].max_tokens > 0) jobs.push_back(std::make_unique<GenJob>(requests[i], out[i], *this));
  run_jobs(jobs, progress);
  return out;
}

std::vector<LoglikResult> Engine::loglikelihood(std::span<const LoglikRequest> requests, const ProgressFn& progress) {
  std::vector<LoglikResult> out(requests.size());
  std::vector<std::unique_ptr<Job>> jobs;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    if (r.context.empty()) throw Error("loglikelihood request " + std::to_string(i) + " has an empty context (start it with BOS)");
    if (r.continuation.empty()) throw Error("loglikelihood request " + std::to_string(i) + " has an empty continuation");
    Tokens all = r.context;
    all.insert(all.end(), r.continuation.begin(), r.continuation.end() - 1);
    check_tokens(all, "loglikelihood request", i);
    check_tokens(r.continuation, "continuation of request", i);
  }
  // Requests with the same context share one job (in order of first appearance), so a
  // context is evaluated once however many continuations it has.
  std::map<Tokens, size_t> job_of_context;
  std::vector<std::pair<const Tokens*, std::vector<SharedContextJob::Member>>> groups;
  for (size_t i = 0; i < requests.size(); ++i) {
    // Without sharing, a per-request key keeps every request in its own job (for measuring).
    Tokens key = requests[i].context;
    if (!opts_.share_contexts) key.push_back(-1 - int32_t(i));
    auto [it, fresh] = job_of_context.try_emplace(std::move(key), groups.size());
    if (fresh) groups.push_back({&requests[i].context, {}});
    groups[it->second].second.push_back({&requests[i], &out[i]});
  }
  for (auto& [context, members] : groups)
    jobs.push_back(std::make_unique<SharedContextJob>(*context, std::move(members)));
  run_jobs(jobs, progress);
  return out;
}

}  // namespace scout::runtime
