#include "engine/runtime/scheduler.h"

#include <algorithm>
#include <cmath>
#include <exception>

#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"

namespace scout::runtime {

namespace {

// log-softmax pieces of one row, computed exactly as Engine::loglikelihood does.
struct RowNorm {
  double max_l = 0.0;
  double log_sum = 0.0;
  explicit RowNorm(std::span<const float> row) {
    const float m = *std::max_element(row.begin(), row.end());
    double sum = 0.0;
    for (float l : row) sum += std::exp(double(l) - double(m));
    max_l = double(m);
    log_sum = std::log(sum);
  }
  double at(std::span<const float> row, int32_t t) const { return double(row[size_t(t)]) - max_l - log_sum; }
};

TokenLogprob token_logprob(std::span<const float> row, int32_t token, int top) {
  const RowNorm norm(row);
  TokenLogprob lp{token, norm.at(row, token), {}};
  if (top <= 0) return lp;
  // The k best ids, best first, ties to the lowest id (as argmax): a sorted insertion list.
  std::vector<int32_t> best;
  auto better = [&row](int32_t a, int32_t b) { return row[size_t(a)] > row[size_t(b)] || (row[size_t(a)] == row[size_t(b)] && a < b); };
  for (int32_t i = 0; i < int32_t(row.size()); ++i) {
    if (int(best.size()) == top && !better(i, best.back())) continue;
    best.insert(std::upper_bound(best.begin(), best.end(), i, better), i);
    if (int(best.size()) > top) best.pop_back();
  }
  for (int32_t id : best) lp.top.emplace_back(id, norm.at(row, id));
  return lp;
}

// End of the longest prefix of text[0, end) that does not stop inside a UTF-8 sequence, so
// streamed pieces are always whole characters.
size_t utf8_safe_end(const std::string& text, size_t end) {
  size_t i = end;
  for (int back = 0; back < 4 && i > 0; ++back) {
    const auto c = static_cast<unsigned char>(text[i - 1]);
    if ((c & 0xC0) == 0x80) { --i; continue; }  // continuation byte: look further back
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return end - (i - 1) >= need ? end : i - 1;
  }
  return end;
}

}  // namespace

struct Scheduler::Seq {
  uint64_t id = 0;
  StreamRequest req;
  TokenFn on_token;
  DoneFn on_done;
  StreamResult out;
  Tokens feed;
  int64_t fed = 0;
  int64_t logits_from = 0;
  int64_t prompt_size = 0;
  bool finished = false;
  std::unique_ptr<model::KvCache> cache;
  std::unique_ptr<Sampler> sampler;
  size_t longest_stop = 0;
  size_t released = 0;  // bytes of the text handed to on_token

  // Nothing to evaluate: no generation and no prompt log-probabilities wanted (or possible).
  bool trivial() const { return req.max_tokens <= 0 && (!req.prompt_logprobs || prompt_size < 2); }

  void finish(FinishReason why, int32_t stop_token) {
    out.generation.finish = why;
    out.generation.stop_token = stop_token;
    finished = true;
  }

  void on_logits(int64_t index, std::span<const float> row, const Engine& engine) {
    if (index < prompt_size - 1) {
      if (req.prompt_logprobs) out.prompt_logprobs.push_back(token_logprob(row, feed[size_t(index + 1)], req.top_logprobs));
      return;
    }
    if (req.max_tokens <= 0) return finish(FinishReason::Length, -1);
    generate(row, engine);
  }

  // Engine::generate's GenJob, step for step, plus log-probabilities and streaming.
  void generate(std::span<const float> row, const Engine& engine) {
    auto& g = out.generation;
    const int32_t token = sampler->sample(row);
    const auto& eog = engine.eog_tokens();
    if ((req.stop_at_eog && std::find(eog.begin(), eog.end(), token) != eog.end())) return finish(FinishReason::StopToken, token);
    g.tokens.push_back(token);
    TokenLogprob lp;
    if (req.token_logprobs) out.token_logprobs.push_back(lp = token_logprob(row, token, req.top_logprobs));
    bool stopped = false;
    if (const tok::Tokenizer* t = engine.tokenizer()) {
      const size_t old_size = g.text.size();
      g.text += t->token_to_piece(token);
      stopped = find_stop_string(old_size);
    }
    if (stopped) finish(FinishReason::StopString, -1);
    else if (int64_t(g.tokens.size()) >= req.max_tokens) finish(FinishReason::Length, -1);
    else if (int64_t(feed.size()) >= engine.n_ctx()) finish(FinishReason::ContextFull, -1);
    else feed.push_back(token);
    release(req.token_logprobs ? &lp : nullptr);
  }

  // Hands on_token the text that can no longer become part of a stop string.
  void release(const TokenLogprob* lp) {
    if (!on_token) return;
    const auto& text = out.generation.text;
    size_t end = text.size();
    if (!finished && longest_stop > 1) end = end >= longest_stop - 1 ? end - (longest_stop - 1) : 0;
    end = std::max(released, utf8_safe_end(text, end));
    const std::string delta = text.substr(released, end - released);
    released = end;
    on_token(delta, lp);
  }

  bool find_stop_string(size_t old_size) {
    auto& g = out.generation;
    auto m = find_new_stop_string(g.text, req.stop_strings, old_size, longest_stop);
    if (m.at == std::string::npos) return false;
    g.stop_string = std::move(m.stop);
    g.text.resize(m.at);
    released = std::min(released, m.at);
    return true;
  }
};

Scheduler::Scheduler(Engine& engine) : engine_(engine) { thread_ = std::thread([this] { loop(); }); }

Scheduler::~Scheduler() {
  stop();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::validate(const StreamRequest& r) const {
  const auto& t = r.prompt;
  if (t.empty()) throw Error("the prompt has no tokens");
  if (int64_t(t.size()) > engine_.n_ctx())
    throw Error("the prompt has " + std::to_string(t.size()) + " tokens, more than the context size " +
                std::to_string(engine_.n_ctx()));
  for (int32_t id : t)
    if (id < 0 || id >= engine_.hparams().n_vocab)
      throw Error("token id " + std::to_string(id) + " outside the vocabulary of " + std::to_string(engine_.hparams().n_vocab));
  if (!r.stop_strings.empty() && !engine_.tokenizer())
    throw Error("stop strings need the model's tokenizer: " + engine_.tokenizer_error());
  Sampler check(r.sampling);  // throws for invalid parameters
}

uint64_t Scheduler::submit(StreamRequest request, TokenFn on_token, DoneFn on_done) {
  validate(request);
  auto s = std::make_unique<Seq>();
  s->req = std::move(request);
  s->on_token = std::move(on_token);
  s->on_done = std::move(on_done);
  s->feed = s->req.prompt;
  s->prompt_size = int64_t(s->feed.size());
  s->logits_from = s->req.prompt_logprobs ? 0 : s->prompt_size - 1;
  s->sampler = std::make_unique<Sampler>(s->req.sampling);
  for (const auto& st : s->req.stop_strings) s->longest_stop = std::max(s->longest_stop, st.size());
  std::lock_guard lk(mu_);
  if (stopping_) throw Error("the server is shutting down");
  s->id = next_id_++;
  const uint64_t id = s->id;
  waiting_.push_back(std::move(s));
  cv_.notify_all();
  return id;
}

void Scheduler::cancel(uint64_t id) {
  std::lock_guard lk(mu_);
  cancelled_.push_back(id);
  cv_.notify_all();
}

void Scheduler::stop() {
  std::lock_guard lk(mu_);
  stopping_ = true;
  cv_.notify_all();
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

void Scheduler::loop() {
  std::vector<std::unique_ptr<Seq>> live;
  for (;;) {
    std::vector<std::unique_ptr<Seq>> done_now;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !waiting_.empty() || !live.empty() || !cancelled_.empty(); });
      for (uint64_t id : cancelled_) {
        for (auto& s : live)
          if (s->id == id) s->finished = s->out.cancelled = true;
        for (auto& s : waiting_)
          if (s && s->id == id) s->out.cancelled = true;
      }
      cancelled_.clear();
      while (int64_t(live.size()) < engine_.options().max_seqs && !waiting_.empty()) {
        auto s = std::move(waiting_.front());
        waiting_.pop_front();
        if (s->trivial() || s->out.cancelled) {
          done_now.push_back(std::move(s));
          continue;
        }
        s->cache = std::make_unique<model::KvCache>(engine_.new_cache());
        live.push_back(std::move(s));
      }
      if (live.empty() && waiting_.empty() && done_now.empty() && stopping_) break;
    }
    for (auto& s : done_now) {
      {
        std::lock_guard lk(mu_);
        stats_.sequences_done += 1;
      }
      s->on_done(std::move(s->out));
    }
    if (!live.empty()) step(live);
  }
}

void Scheduler::step(std::vector<std::unique_ptr<Seq>>& live) {
  // Plan as Engine::run_jobs: a token for every decoding sequence, then prefill chunks in order.
  struct Part {
    Seq* seq;
    int64_t begin, end;
  };
  std::vector<Part> parts;
  int64_t budget = engine_.options().n_batch;
  for (const bool decoding : {true, false})
    for (auto& s : live) {
      const int64_t pending = int64_t(s->feed.size()) - s->fed;
      if (s->finished || budget == 0 || pending == 0 || decoding != (pending == 1)) continue;
      const int64_t take = std::min(pending, budget);
      parts.push_back({s.get(), s->fed, s->fed + take});
      budget -= take;
    }
  std::vector<model::SeqInput> inputs;
  for (const auto& p : parts) {
    const std::span<const int32_t> tokens(p.seq->feed.data() + p.begin, size_t(p.end - p.begin));
    inputs.push_back({p.seq->cache.get(), tokens, std::max<int64_t>(0, p.end - std::max(p.begin, p.seq->logits_from))});
  }
  std::string error;
  std::vector<float> logits;
  if (!inputs.empty()) {
    try {
      logits = engine_.forward(inputs);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  const int64_t n_vocab = engine_.hparams().n_vocab;
  const float* row = logits.data();
  for (const auto& p : parts) {
    if (!error.empty()) {
      p.seq->out.error = error;
      p.seq->finished = true;
      continue;
    }
    p.seq->fed = p.end;
    for (int64_t i = std::max(p.begin, p.seq->logits_from); i < p.end; ++i, row += n_vocab)
      if (!p.seq->finished) p.seq->on_logits(i, std::span<const float>(row, size_t(n_vocab)), engine_);
  }
  {
    std::lock_guard lk(mu_);
    stats_.steps += 1;
    stats_.max_live = std::max<int64_t>(stats_.max_live, int64_t(parts.size()));
  }
  std::vector<std::unique_ptr<Seq>> finished;
  for (auto& s : live)
    if (s->finished || s->fed >= int64_t(s->feed.size())) finished.push_back(std::move(s));
  std::erase(live, nullptr);
  for (auto& s : finished) {
    s->cache.reset();
    if (s->on_token && s->released < s->out.generation.text.size()) s->release(nullptr);
    {
      std::lock_guard lk(mu_);
      stats_.sequences_done += 1;  // before on_done, so a client that saw its answer sees it counted
    }
    s->on_done(std::move(s->out));
  }
}

}  // namespace scout::runtime
