#include "server/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/runtime/scheduler.h"
#include "engine/tokenizer/chat_template.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"

namespace scout::server {
namespace {

using json = nlohmann::json;
using runtime::TokenLogprob;

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

// An error answered as {"error": {...}} with an HTTP status.
struct ApiError {
  int status = 400;
  std::string message{};
  std::string type = "invalid_request_error";
  std::string param{};
  std::string code{};
};

ApiError bad(std::string message, std::string param = "", std::string code = "") {
  return {400, std::move(message), "invalid_request_error", std::move(param), std::move(code)};
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json error_body(const ApiError& e) {
  return {{"error",
           {{"message", e.message},
            {"type", e.type},
            {"param", e.param.empty() ? json(nullptr) : json(e.param)},
            {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// Characters (code points) in UTF-8 text: what OpenAI's and vLLM's text offsets count.
int64_t n_chars(const std::string& s) {
  int64_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// A token's text for JSON: the piece itself, or vLLM's "bytes:\xNN..." for a partial character.
std::string token_string(const std::string& piece) {
  if (valid_utf8(piece)) return piece;
  std::string s = "bytes:";
  for (unsigned char c : piece) s += fmt::format("\\x{:02x}", c);
  return s;
}

json byte_list(const std::string& piece) {
  json b = json::array();
  for (unsigned char c : piece) b.push_back(int(c));
  return b;
}

const char* finish_name(const runtime::GenerationResult& g) {
  using runtime::FinishReason;
  return g.finish == FinishReason::StopToken || g.finish == FinishReason::StopString ? "stop" : "length";
}

// What one HTTP request is waiting for: events from the scheduler thread.
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<std::string, std::optional<TokenLogprob>>> events;
  std::optional<runtime::StreamResult> result;
  uint64_t id = 0;
};

class Server {
 public:
  explicit Server(const ServeOptions& o) : opts_(o) {
    engine_ = runtime::Engine::load(o.model_path, o.engine);
    tokenizer_ = engine_->tokenizer();
    if (tokenizer_) {
      try {
        chat_.emplace(tok::ChatTemplate::for_vocab(tokenizer_->vocab(), o.chat_template));
      } catch (const Error& e) {
        chat_error_ = e.what();
      }
    }
    name_ = o.served_name.empty() ? std::filesystem::path(o.model_path).stem().string() : o.served_name;
    scheduler_ = std::make_unique<runtime::Scheduler>(*engine_);
  }

  int run() {
    httplib::Server svr;
    svr.new_task_queue = [n = opts_.http_threads] { return new httplib::ThreadPool(size_t(n)); };
    svr.set_payload_max_length(opts_.max_body_bytes);
    svr.set_read_timeout(std::chrono::seconds(60));
    svr.set_write_timeout(std::chrono::seconds(600));
    svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;  // our own JSON errors
      ApiError e{res.status, fmt::format("HTTP {}", res.status), "invalid_request_error"};
      if (res.status == 413) e.message = "request body too large";
      if (res.status == 404) e.message = "no such endpoint";
      res.set_content(dump(error_body(e)), "application/json");
    });
    svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      res.status = 500;
      res.set_content(dump(error_body({500, "internal error", "server_error"})), "application/json");
    });
    if (opts_.access_log)
      svr.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        fmt::print(stderr, "{} {} {}\n", req.method, req.path, res.status);
      });
    svr.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
    svr.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
      handle(req, res, [this](const json&, httplib::Response& r) { models(r); }, false);
    });
    svr.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      handle(req, res, [this](const json& b, httplib::Response& r) { completions(b, r); }, true);
    });
    svr.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      handle(req, res, [this](const json& b, httplib::Response& r) { chat(b, r); }, true);
    });

    const int port = opts_.port == 0 ? svr.bind_to_any_port(opts_.host) : (svr.bind_to_port(opts_.host, opts_.port) ? opts_.port : -1);
    if (port < 0) throw Error(fmt::format("cannot listen on {}:{}", opts_.host, opts_.port));
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    // Graceful shutdown: httplib's stop() would cut streams short, so first drain (new requests
    // get 503), wait for every request in flight to finish (at most 10 minutes), then stop.
    std::thread watcher([this, &svr] {
      while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      draining_ = true;
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(10);
      while (inflight_ > 0 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      svr.stop();
    });
    fmt::print("serving {} as \"{}\" (context {}, up to {} sequences per step)\nlistening on http://{}:{}\n",
               opts_.model_path, name_, engine_->n_ctx(), engine_->options().max_seqs, opts_.host, port);
    std::fflush(stdout);
    svr.listen_after_bind();
    g_stop = true;
    watcher.join();
    scheduler_->stop();
    const auto st = scheduler_->stats();
    fmt::print(stderr, "shut down: {} sequences in {} steps, at most {} sequences in one step\n", st.sequences_done,
               st.steps, st.max_live);
    return 0;
  }

 private:
  using Body = std::function<void(const json&, httplib::Response&)>;

  void handle(const httplib::Request& req, httplib::Response& res, const Body& body_fn, bool post) {
    ++inflight_;
    struct Done {
      std::atomic<int>& n;
      ~Done() { --n; }
    } done{inflight_};
    try {
      if (draining_) throw ApiError{503, "the server is shutting down", "server_error"};
      if (!opts_.api_key.empty() && req.get_header_value("Authorization") != "Bearer " + opts_.api_key)
        throw ApiError{401, "missing or wrong API key (Authorization: Bearer ...)", "authentication_error", "", "invalid_api_key"};
      json body = json::object();
      if (post) {
        try {
          body = json::parse(req.body);
        } catch (const json::parse_error& e) {
          throw bad(fmt::format("request body is not valid JSON: {}", e.what()));
        }
        if (!body.is_object()) throw bad("request body must be a JSON object");
        if (body.contains("model") && !body["model"].is_null() && body["model"] != name_)
          throw ApiError{404, fmt::format("model \"{}\" does not exist (this server serves \"{}\")",
                                          body["model"].is_string() ? body["model"].get<std::string>() : body["model"].dump(), name_),
                         "invalid_request_error", "model", "model_not_found"};
      }
      body_fn(body, res);
    } catch (const ApiError& e) {
      res.status = e.status;
      res.set_content(dump(error_body(e)), "application/json");
    } catch (const json::exception& e) {
      res.status = 400;
      res.set_content(dump(error_body(bad(fmt::format("bad request field: {}", e.what())))), "application/json");
    } catch (const Error& e) {
      res.status = 400;
      res.set_content(dump(error_body(bad(e.what()))), "application/json");
    }
  }

  void models(httplib::Response& res) {
    json m = {{"id", name_}, {"object", "model"}, {"created", 0}, {"owned_by", "scout-eval"}, {"max_model_len", engine_->n_ctx()}};
    res.set_content(dump({{"object", "list"}, {"data", json::array({m})}}), "application/json");
  }

  // ---- request fields ----

  template <class T>
  static T field(const json& b, const char* key, T dflt) {
    if (!b.contains(key) || b[key].is_null()) return dflt;
    try {
      return b[key].get<T>();
    } catch (const json::exception&) {
      throw bad(fmt::format("\"{}\" has the wrong type", key), key);
    }
  }

  static double number(const json& b, const char* key, double dflt, double lo, double hi) {
    if (!b.contains(key) || b[key].is_null()) return dflt;
    if (!b[key].is_number()) throw bad(fmt::format("\"{}\" must be a number", key), key);
    const double v = b[key].get<double>();
    if (!(v >= lo && v <= hi)) throw bad(fmt::format("\"{}\" must be in [{}, {}]", key, lo, hi), key);
    return v;
  }

  static int64_t integer(const json& b, const char* key, int64_t dflt, int64_t lo, int64_t hi) {
    if (!b.contains(key) || b[key].is_null()) return dflt;
    if (!b[key].is_number_integer()) throw bad(fmt::format("\"{}\" must be an integer", key), key);
    const int64_t v = b[key].get<int64_t>();
    if (v < lo || v > hi) throw bad(fmt::format("\"{}\" must be in [{}, {}]", key, lo, hi), key);
    return v;
  }

  // Settings shared by both endpoints.
  runtime::StreamRequest common(const json& b, const char* max_key, int64_t default_max) {
    runtime::StreamRequest r;
    if (integer(b, "n", 1, 1, 1) != 1) throw bad("only n=1 is supported", "n");
    r.max_tokens = integer(b, max_key, integer(b, "max_tokens", default_max, 0, INT64_MAX), 0, INT64_MAX);
    if (r.max_tokens > opts_.max_tokens_limit)
      throw bad(fmt::format("max_tokens {} is more than this server allows ({})", r.max_tokens, opts_.max_tokens_limit),
                max_key, "max_tokens_too_large");
    r.sampling.temperature = float(number(b, "temperature", 1.0, 0.0, 2.0));
    r.sampling.top_p = float(number(b, "top_p", 1.0, 0.0, 1.0));
    if (r.sampling.top_p <= 0.0f) throw bad("\"top_p\" must be > 0", "top_p");
    r.sampling.top_k = int32_t(std::max<int64_t>(0, integer(b, "top_k", 0, -1, 1 << 20)));
    r.sampling.min_p = float(number(b, "min_p", 0.0, 0.0, 1.0));
    r.sampling.seed = uint64_t(integer(b, "seed", 0, INT64_MIN, INT64_MAX));
    if (b.contains("stop") && !b["stop"].is_null()) {
      const json& s = b["stop"];
      if (s.is_string()) r.stop_strings.push_back(s.get<std::string>());
      else if (s.is_array() && s.size() <= 16) {
        for (const auto& x : s) {
          if (!x.is_string()) throw bad("\"stop\" must be a string or a list of strings", "stop");
          r.stop_strings.push_back(x.get<std::string>());
        }
      } else throw bad("\"stop\" must be a string or a list of at most 16 strings", "stop");
    }
    if (!tokenizer_ && !r.stop_strings.empty()) throw bad("stop strings need the model's tokenizer", "stop");
    return r;
  }

  // Special-token text is parsed (as vLLM and llama.cpp's server do); BOS is added as the
  // vocabulary says unless add_special_tokens is false (a rendered chat prompt has its own).
  runtime::Tokens encode_text(const std::string& text, bool add_special) const {
    if (!tokenizer_) throw bad("this model has no tokenizer scout-eval can use; send token ids: " + engine_->tokenizer_error());
    const auto& v = tokenizer_->vocab();
    auto t = tokenizer_->encode(text, add_special && v.add_bos, true);
    if (t.empty() && v.bos != tok::kNoToken) t.push_back(v.bos);
    return t;
  }

  void check_context(const runtime::Tokens& t) const {
    if (t.empty()) throw bad("the prompt is empty", "prompt");
    if (int64_t(t.size()) > engine_->n_ctx())
      throw bad(fmt::format("the prompt has {} tokens; this model's context is {} tokens", t.size(), engine_->n_ctx()),
                "prompt", "context_length_exceeded");
  }

  std::string piece(int32_t id) const { return tokenizer_ ? tokenizer_->token_to_piece(id) : fmt::format("<{}>", id); }

  // ---- running ----

  std::shared_ptr<Waiter> submit(runtime::StreamRequest r, bool stream) {
    auto w = std::make_shared<Waiter>();
    runtime::TokenFn on_token;
    if (stream)
      on_token = [w](const std::string& delta, const TokenLogprob* lp) {
        std::lock_guard lk(w->mu);
        w->events.emplace_back(delta, lp ? std::optional<TokenLogprob>(*lp) : std::nullopt);
        w->cv.notify_all();
      };
    try {
      w->id = scheduler_->submit(std::move(r), std::move(on_token), [w](runtime::StreamResult&& res) {
        std::lock_guard lk(w->mu);
        w->result = std::move(res);
        w->cv.notify_all();
      });
    } catch (const Error& e) {
      if (g_stop) throw ApiError{503, e.what(), "server_error"};
      throw bad(e.what());
    }
    return w;
  }

  static runtime::StreamResult wait(Waiter& w) {
    std::unique_lock lk(w.mu);
    w.cv.wait(lk, [&] { return w.result.has_value(); });
    if (!w.result->error.empty()) throw ApiError{500, "the engine failed: " + w.result->error, "server_error"};
    return std::move(*w.result);
  }

  // ---- /v1/completions ----

  // Legacy logprobs: tokens, token_logprobs, top_logprobs (dict, the chosen token included as
  // OpenAI does) and text_offset (characters, counted over the token strings as vLLM does).
  void add_completion_logprobs(json& lp, const TokenLogprob* t, int32_t token, int64_t& offset) const {
    const std::string s = token_string(piece(token));
    lp["tokens"].push_back(s);
    lp["text_offset"].push_back(offset);
    offset += n_chars(s);
    if (!t) {
      lp["token_logprobs"].push_back(nullptr);
      lp["top_logprobs"].push_back(nullptr);
      return;
    }
    lp["token_logprobs"].push_back(t->logprob);
    json top = json::object();
    for (const auto& [id, v] : t->top) top[token_string(piece(id))] = v;
    top[s] = t->logprob;
    lp["top_logprobs"].push_back(top);
  }

  static json empty_completion_logprobs() {
    return {{"tokens", json::array()}, {"token_logprobs", json::array()}, {"top_logprobs", json::array()}, {"text_offset", json::array()}};
  }

  std::vector<std::pair<runtime::Tokens, std::string>> completion_prompts(const json& b) const {
    if (!b.contains("prompt")) throw bad("\"prompt\" is required", "prompt");
    const bool special = field<bool>(b, "add_special_tokens", true);
    const json& p = b["prompt"];
    std::vector<std::pair<runtime::Tokens, std::string>> out;
    auto ids = [this](const json& a) {
      runtime::Tokens t;
      for (const auto& x : a) {
        if (!x.is_number_integer()) throw bad("\"prompt\" token lists must hold integers", "prompt");
        t.push_back(x.get<int32_t>());
      }
      std::string text;
      for (int32_t id : t)
        if (id >= 0 && id < engine_->hparams().n_vocab) text += piece(id);
      return std::make_pair(t, text);
    };
    if (p.is_string()) out.emplace_back(encode_text(p.get<std::string>(), special), p.get<std::string>());
    else if (p.is_array() && !p.empty() && p[0].is_number_integer()) out.push_back(ids(p));
    else if (p.is_array() && !p.empty()) {
      for (const auto& x : p) {
        if (x.is_string()) out.emplace_back(encode_text(x.get<std::string>(), special), x.get<std::string>());
        else if (x.is_array()) out.push_back(ids(x));
        else throw bad("\"prompt\" must be a string, a list of strings or a list of token ids", "prompt");
      }
    } else throw bad("\"prompt\" must be a string, a list of strings or a list of token ids", "prompt");
    if (int(out.size()) > opts_.max_prompts) throw bad(fmt::format("at most {} prompts per request", opts_.max_prompts), "prompt");
    for (const auto& [t, text] : out) check_context(t);
    return out;
  }

  void completions(const json& b, httplib::Response& res) {
    auto prompts = completion_prompts(b);
    runtime::StreamRequest base = common(b, "max_tokens", 16);  // OpenAI's default
    const bool echo = field<bool>(b, "echo", false);
    const int64_t n_logprobs = integer(b, "logprobs", -1, 0, 20);
    const bool stream = field<bool>(b, "stream", false);
    if (stream && prompts.size() != 1) throw bad("streaming takes one prompt", "stream");
    base.token_logprobs = n_logprobs >= 0;
    base.prompt_logprobs = echo && n_logprobs >= 0;
    base.top_logprobs = int(std::max<int64_t>(0, n_logprobs));
    const std::string id = fmt::format("cmpl-{}", next_id_++);
    const auto created = int64_t(std::time(nullptr));
    if (stream) return stream_completion(b, std::move(prompts[0]), base, echo, id, created, res);

    std::vector<std::shared_ptr<Waiter>> waiters;
    for (auto& [t, text] : prompts) {
      auto r = base;
      r.prompt = t;
      waiters.push_back(submit(std::move(r), false));
    }
    json choices = json::array();
    int64_t n_prompt = 0, n_out = 0;
    for (size_t i = 0; i < waiters.size(); ++i) {
      const auto r = wait(*waiters[i]);
      const auto& [tokens, text] = prompts[i];
      json c = {{"index", i}, {"text", (echo ? text : "") + r.generation.text}, {"finish_reason", finish_name(r.generation)}};
      if (base.token_logprobs) {
        json lp = empty_completion_logprobs();
        int64_t offset = 0;
        if (echo)
          for (size_t k = 0; k < tokens.size(); ++k)
            add_completion_logprobs(lp, k == 0 ? nullptr : &r.prompt_logprobs[k - 1], tokens[k], offset);
        for (size_t k = 0; k < r.generation.tokens.size(); ++k)
          add_completion_logprobs(lp, &r.token_logprobs[k], r.generation.tokens[k], offset);
        c["logprobs"] = lp;
      } else {
        c["logprobs"] = nullptr;
      }
      choices.push_back(c);
      n_prompt += int64_t(tokens.size());
      n_out += int64_t(r.generation.tokens.size());
    }
    json out = {{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", name_}, {"choices", choices},
                {"usage", {{"prompt_tokens", n_prompt}, {"completion_tokens", n_out}, {"total_tokens", n_prompt + n_out}}}};
    res.set_content(dump(out), "application/json");
  }

  // ---- /v1/chat/completions ----

  std::string render_chat(const json& b) const {
    if (!b.contains("messages") || !b["messages"].is_array() || b["messages"].empty())
      throw bad("\"messages\" must be a non-empty list", "messages");
    if (!chat_) throw bad("this model has no chat template scout-eval can render: " + chat_error_, "messages");
    std::vector<tok::ChatMessage> msgs;
    for (const auto& m : b["messages"]) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
        throw bad("each message needs a \"role\" string", "messages");
      std::string content;
      const json c = m.value("content", json(nullptr));
      if (c.is_string()) content = c.get<std::string>();
      else if (c.is_array()) {
        for (const auto& part : c) {
          if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
            throw bad("only text content parts are supported", "messages");
          content += part["text"].get<std::string>();
        }
      } else if (!c.is_null()) throw bad("message content must be a string or a list of text parts", "messages");
      msgs.push_back({m["role"].get<std::string>(), content});
    }
    return chat_->render(msgs, /*add_generation_prompt=*/true);
  }

  json chat_logprob_item(const TokenLogprob& t) const {
    const std::string p = piece(t.token);
    json top = json::array();
    for (const auto& [id, v] : t.top) {
      const std::string q = piece(id);
      top.push_back({{"token", token_string(q)}, {"logprob", v}, {"bytes", byte_list(q)}});
    }
    return {{"token", token_string(p)}, {"logprob", t.logprob}, {"bytes", byte_list(p)}, {"top_logprobs", top}};
  }

  void chat(const json& b, httplib::Response& res) {
    const std::string text = render_chat(b);
    runtime::StreamRequest r = common(b, "max_completion_tokens", opts_.max_tokens_limit);
    r.prompt = encode_text(text, false);
    check_context(r.prompt);
    r.token_logprobs = field<bool>(b, "logprobs", false);
    r.top_logprobs = int(integer(b, "top_logprobs", 0, 0, 20));
    if (r.top_logprobs > 0 && !r.token_logprobs) throw bad("\"top_logprobs\" needs \"logprobs\": true", "top_logprobs");
    const std::string id = fmt::format("chatcmpl-{}", next_id_++);
    const auto created = int64_t(std::time(nullptr));
    const int64_t n_prompt = int64_t(r.prompt.size());
    const bool want_lp = r.token_logprobs;
    if (field<bool>(b, "stream", false)) return stream_chat(b, std::move(r), id, created, res);
    const auto out = wait(*submit(std::move(r), false));
    json lp = nullptr;
    if (want_lp) {
      lp = {{"content", json::array()}};
      for (const auto& t : out.token_logprobs) lp["content"].push_back(chat_logprob_item(t));
    }
    const int64_t n_out = int64_t(out.generation.tokens.size());
    json body = {{"id", id}, {"object", "chat.completion"}, {"created", created}, {"model", name_},
                 {"choices", json::array({{{"index", 0},
                                           {"message", {{"role", "assistant"}, {"content", out.generation.text}}},
                                           {"logprobs", lp},
                                           {"finish_reason", finish_name(out.generation)}}})},
                 {"usage", {{"prompt_tokens", n_prompt}, {"completion_tokens", n_out}, {"total_tokens", n_prompt + n_out}}}};
    res.set_content(dump(body), "application/json");
  }

  // ---- streaming (server-sent events) ----

  // Builds one SSE chunk from a text delta and an optional token log-probability.
  using ChunkFn = std::function<json(const std::string& delta, const TokenLogprob* lp)>;
  using FinalFn = std::function<json(const runtime::StreamResult&)>;

  void stream_events(std::shared_ptr<Waiter> w, ChunkFn chunk, FinalFn final_chunk, std::optional<json> usage_base,
                     int64_t n_prompt, httplib::Response& res) {
    auto sched = scheduler_.get();
    ++inflight_;  // until the stream ends (the releaser below), not just until the handler returns
    auto* inflight = &inflight_;
    res.set_chunked_content_provider(
        "text/event-stream",
        [w, chunk, final_chunk, usage_base, n_prompt](size_t, httplib::DataSink& sink) {
          auto send = [&sink](const json& j) {
            const std::string s = "data: " + dump(j) + "\n\n";
            return sink.write(s.data(), s.size());
          };
          std::unique_lock lk(w->mu);
          w->cv.wait(lk, [&] { return !w->events.empty() || w->result.has_value(); });
          while (!w->events.empty()) {
            auto [delta, lp] = std::move(w->events.front());
            w->events.pop_front();
            if (delta.empty() && !lp) continue;
            lk.unlock();
            if (!send(chunk(delta, lp ? &*lp : nullptr))) return false;
            lk.lock();
          }
          if (!w->result) return true;  // more to come
          const auto r = std::move(*w->result);
          lk.unlock();
          if (!r.error.empty()) {
            send(error_body({500, "the engine failed: " + r.error, "server_error"}));
          } else {
            if (!send(final_chunk(r))) return false;
            if (usage_base) {
              json u = *usage_base;
              const int64_t n_out = int64_t(r.generation.tokens.size());
              u["usage"] = {{"prompt_tokens", n_prompt}, {"completion_tokens", n_out}, {"total_tokens", n_prompt + n_out}};
              if (!send(u)) return false;
            }
          }
          const std::string done = "data: [DONE]\n\n";
          sink.write(done.data(), done.size());
          sink.done();
          return true;
        },
        [w, sched, inflight](bool) {
          {
            std::lock_guard lk(w->mu);
            if (!w->result) sched->cancel(w->id);  // the client went away: stop generating
          }
          --*inflight;
        });
  }

  static bool include_usage(const json& b) {
    return b.contains("stream_options") && b["stream_options"].is_object() && b["stream_options"].value("include_usage", false);
  }

  void stream_completion(const json& b, std::pair<runtime::Tokens, std::string> prompt, runtime::StreamRequest r,
                         bool echo, const std::string& id, int64_t created, httplib::Response& res) {
    r.prompt = prompt.first;
    r.prompt_logprobs = false;  // echo while streaming sends the prompt text without log-probabilities
    const json head = {{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", name_}};
    const bool lp_on = r.token_logprobs;
    auto offset = std::make_shared<int64_t>(echo ? n_chars(prompt.second) : 0);
    auto first = std::make_shared<std::string>(echo ? prompt.second : "");
    const int64_t n_prompt = int64_t(prompt.first.size());
    auto w = submit(std::move(r), true);
    ChunkFn chunk = [this, head, lp_on, offset, first](const std::string& delta, const TokenLogprob* lp) {
      json c = head;
      json choice = {{"index", 0}, {"text", *first + delta}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
      first->clear();
      if (lp_on && lp) {
        json l = empty_completion_logprobs();
        add_completion_logprobs(l, lp, lp->token, *offset);
        choice["logprobs"] = l;
      }
      c["choices"] = json::array({choice});
      return c;
    };
    FinalFn fin = [head, first](const runtime::StreamResult& r) {
      json c = head;
      c["choices"] = json::array({{{"index", 0}, {"text", *first}, {"logprobs", nullptr}, {"finish_reason", finish_name(r.generation)}}});
      return c;
    };
    std::optional<json> usage;
    if (include_usage(b)) usage = json{{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", name_}, {"choices", json::array()}};
    stream_events(w, chunk, fin, usage, n_prompt, res);
  }

  void stream_chat(const json& b, runtime::StreamRequest r, const std::string& id, int64_t created, httplib::Response& res) {
    const json head = {{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", name_}};
    const bool lp_on = r.token_logprobs;
    const int64_t n_prompt = int64_t(r.prompt.size());
    auto sent_role = std::make_shared<bool>(false);
    auto w = submit(std::move(r), true);
    ChunkFn chunk = [this, head, lp_on, sent_role](const std::string& delta, const TokenLogprob* lp) {
      json c = head;
      json d = {{"content", delta}};
      if (!*sent_role) d["role"] = "assistant";
      *sent_role = true;
      json choice = {{"index", 0}, {"delta", d}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
      if (lp_on && lp) choice["logprobs"] = {{"content", json::array({chat_logprob_item(*lp)})}};
      c["choices"] = json::array({choice});
      return c;
    };
    FinalFn fin = [head, sent_role](const runtime::StreamResult& r) {
      json c = head;
      json d = json::object();
      if (!*sent_role) d["role"] = "assistant";
      c["choices"] = json::array({{{"index", 0}, {"delta", d}, {"logprobs", nullptr}, {"finish_reason", finish_name(r.generation)}}});
      return c;
    };
    std::optional<json> usage;
    if (include_usage(b)) usage = json{{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", name_}, {"choices", json::array()}};
    stream_events(w, chunk, fin, usage, n_prompt, res);
  }

  ServeOptions opts_;
  std::unique_ptr<runtime::Engine> engine_;
  const tok::Tokenizer* tokenizer_ = nullptr;
  std::optional<tok::ChatTemplate> chat_;
  std::string chat_error_;
  std::string name_;
  std::unique_ptr<runtime::Scheduler> scheduler_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<int> inflight_{0};  // requests not yet answered completely (streams included)
  std::atomic<bool> draining_{false};
};

}  // namespace

int serve(const ServeOptions& options) {
  Server s(options);
  return s.run();
}

}  // namespace scout::server
