#include "harness/backends/openai_http.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "harness/store/request_cache.h"

namespace scout::harness {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct HttpReply {
  long status = 0;          // 0: no HTTP answer (transport error)
  std::string body;
  std::string transport_error;
};

size_t append_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One connection, reused across requests (keep-alive); used by one thread at a time.
class Connection {
 public:
  Connection() : curl_(curl_easy_init()) {
    if (!curl_) throw Error("libcurl: cannot create a handle");
  }
  ~Connection() { curl_easy_cleanup(curl_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  HttpReply post(const std::string& url, const std::string& body, const std::string& api_key, double timeout_s) {
    HttpReply r;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    std::string auth;
    if (!api_key.empty()) {
      auth = "Authorization: Bearer " + api_key;
      headers = curl_slist_append(headers, auth.c_str());
    }
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, long(timeout_s * 1000));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, long(std::min(timeout_s, 30.0) * 1000));
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &r.body);
    const CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(headers);
    // Forget the header list (it held the key) as soon as the request is done.
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
    std::fill(auth.begin(), auth.end(), '\0');
    if (rc != CURLE_OK) {
      r.transport_error = curl_easy_strerror(rc);
      return r;
    }
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.status);
    return r;
  }

 private:
  CURL* curl_;
};

bool retryable(const HttpReply& r) { return r.status == 0 || r.status == 429 || r.status >= 500; }

// The server's own error message, if its body is OpenAI's {"error": {"message": ...}}.
std::string server_message(const std::string& body) {
  try {
    const auto j = json::parse(body);
    if (j.contains("error") && j["error"].is_object() && j["error"].contains("message")) return j["error"]["message"].dump();
    if (j.contains("message")) return j["message"].dump();
  } catch (const json::exception&) {
  }
  return body.substr(0, 300);
}

// Characters (code points) of UTF-8 text: the unit of OpenAI/vLLM text offsets.
int64_t n_chars(const std::string& s) {
  int64_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string rstrip_split(std::string& context) {
  const size_t last = context.find_last_not_of(" \t\n\r\f\v");
  const size_t keep = last == std::string::npos ? 0 : last + 1;
  std::string tail = context.substr(keep);
  context.resize(keep);
  return tail;
}

}  // namespace

struct OpenAIBackend::Impl {
  OpenAIOptions o;
  std::string api_root;  // base URL ending in /v1
  std::optional<store::RequestCache> cache;
  std::atomic<int64_t> sent{0}, cached{0}, retried{0};

  // One request to send: its path and body, and (after run_all) the parsed response.
  struct Call {
    std::string path;
    json body;
    json response;
    double seconds = 0;
    std::string key;
  };

  json send(Connection& conn, const Call& c) {
    const std::string url = api_root + c.path;
    const std::string body = c.body.dump(-1, ' ', false, json::error_handler_t::replace);
    double wait = o.backoff_s;
    for (int attempt = 0;; ++attempt) {
      ++sent;
      if (attempt > 0) ++retried;
      const HttpReply r = conn.post(url, body, o.api_key, o.timeout_s);
      if (r.status == 200) {
        try {
          return json::parse(r.body);
        } catch (const json::exception& e) {
          throw Error(fmt::format("POST {}: the response is not JSON ({})", url, e.what()));
        }
      }
      const std::string what = r.status == 0 ? r.transport_error : fmt::format("HTTP {}: {}", r.status, server_message(r.body));
      if (!retryable(r) || attempt >= o.retries)
        throw Error(fmt::format("POST {}: {}{}", url, what, attempt > 0 ? fmt::format(" (after {} retries)", attempt) : ""));
      std::this_thread::sleep_for(std::chrono::duration<double>(wait));
      wait = std::min(wait * 2, 30.0);
    }
  }

  // Answers every call, from the cache or over HTTP with o.concurrency threads; stores new
  // responses in the cache. The first failure (in call order) is rethrown after all threads end.
  void run_all(std::vector<Call>& calls) {
    std::vector<size_t> todo;
    for (size_t i = 0; i < calls.size(); ++i) {
      auto& c = calls[i];
      if (cache) {
        c.key = store::RequestCache::key(api_root, c.path, c.body);
        if (auto hit = cache->get(c.key)) {
          c.response = std::move(*hit);
          ++cached;
          continue;
        }
      }
      todo.push_back(i);
    }
    std::vector<std::exception_ptr> errors(calls.size());
    std::atomic<size_t> next{0};
    auto worker = [&] {
      std::optional<Connection> conn;
      for (size_t k; (k = next++) < todo.size();) {
        auto& c = calls[todo[k]];
        try {
          if (!conn) conn.emplace();
          const auto t0 = Clock::now();
          c.response = send(*conn, c);
          c.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        } catch (...) {
          errors[todo[k]] = std::current_exception();
        }
      }
    };
    const size_t n_threads = std::min<size_t>(todo.size(), size_t(std::max(1, o.concurrency)));
    std::vector<std::thread> threads;
    for (size_t t = 0; t < n_threads; ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    // Keep what succeeded even when something failed: a rerun then resends only the failures.
    if (cache)
      for (size_t i : todo)
        if (!errors[i]) cache->put(calls[i].key, calls[i].response);
    for (const auto& e : errors)
      if (e) std::rethrow_exception(e);
  }
};

OpenAIBackend::OpenAIBackend(OpenAIOptions options, store::Db* cache_db) : impl_(std::make_unique<Impl>()) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (options.base_url.empty()) throw Error("--base-url is required for the openai backend");
  if (options.model.empty()) throw Error("the openai backend needs a model name (--model NAME as the server knows it)");
  std::string root = options.base_url;
  while (!root.empty() && root.back() == '/') root.pop_back();
  if (!root.ends_with("/v1")) root += "/v1";
  impl_->api_root = root;
  impl_->o = std::move(options);
  if (cache_db && impl_->o.use_cache) impl_->cache.emplace(*cache_db);
}

OpenAIBackend::~OpenAIBackend() = default;

std::string OpenAIBackend::describe() const { return fmt::format("openai:{}@{}", impl_->o.model, impl_->api_root); }

json OpenAIBackend::config() const {
  return {{"base_url", impl_->api_root},
          {"model", impl_->o.model},
          {"chat_template", impl_->o.chat_template_name},
          {"loglikelihood", "completions echo logprobs=1 max_tokens=0"}};
}

OpenAIBackend::Counters OpenAIBackend::counters() const {
  return {impl_->sent.load(), impl_->cached.load(), impl_->retried.load()};
}

json OpenAIBackend::generate_body(const std::string& model, const GenerateRequest& r) {
  const auto& s = r.settings;
  json b = {{"model", model}, {"max_tokens", s.max_tokens}, {"temperature", s.temperature}, {"seed", s.seed}};
  if (s.top_p != 1.0) b["top_p"] = s.top_p;
  if (s.top_k > 0) b["top_k"] = s.top_k;  // an extension (vLLM, llama.cpp, scout-eval serve)
  if (!s.stop.empty()) b["stop"] = s.stop;
  if (r.prompt.chat) {
    b["messages"] = json::array();
    for (const auto& m : r.prompt.messages) b["messages"].push_back({{"role", m.role}, {"content", m.content}});
  } else {
    b["prompt"] = r.prompt.text;
  }
  return b;
}

std::vector<GenerateResponse> OpenAIBackend::generate_until(std::span<const GenerateRequest> requests) {
  std::vector<Impl::Call> calls;
  for (const auto& r : requests)
    calls.push_back({r.prompt.chat ? "/chat/completions" : "/completions", generate_body(impl_->o.model, r), {}, 0, {}});
  impl_->run_all(calls);
  std::vector<GenerateResponse> out(requests.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    const json& j = calls[i].response;
    const std::string where = fmt::format("{}{}", impl_->api_root, calls[i].path);
    if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty())
      throw Error(where + ": the response has no choices");
    const json& c = j["choices"][0];
    const json text = requests[i].prompt.chat ? (c.contains("message") ? c["message"].value("content", json(nullptr)) : json(nullptr))
                                              : c.value("text", json(nullptr));
    out[i].text = text.is_string() ? text.get<std::string>() : "";
    if (!requests[i].prompt.chat) out[i].rendered_prompt = requests[i].prompt.text;
    out[i].finish_reason = c.value("finish_reason", json("")).is_string() ? c.value("finish_reason", "") : "";
    if (j.contains("usage") && j["usage"].is_object()) {
      out[i].n_prompt_tokens = j["usage"].value("prompt_tokens", int64_t(0));
      out[i].n_output_tokens = j["usage"].value("completion_tokens", int64_t(0));
    }
    out[i].seconds = calls[i].seconds;
  }
  return out;
}

namespace {

// The continuation's log-probability from an echoed completion (see the header).
LoglikResponse score_echo(const json& resp, const std::string& continuation, const std::string& where) {
  auto unavailable = [&where](const std::string& why) {
    return LogprobsUnavailable(fmt::format(
        "{}: {} — log-likelihood tasks need prompt log-probabilities (/v1/completions with echo=true, "
        "logprobs=1, max_tokens=0), which this server does not provide; use a server that does (vLLM, "
        "scout-eval serve) or the generation protocols",
        where, why));
  };
  if (!resp.contains("choices") || !resp["choices"].is_array() || resp["choices"].empty()) throw unavailable("no choices");
  const json& lp = resp["choices"][0].value("logprobs", json(nullptr));
  if (!lp.is_object() || !lp.contains("tokens") || !lp.contains("token_logprobs") || !lp.contains("text_offset") ||
      !lp["tokens"].is_array() || lp["tokens"].empty())
    throw unavailable("no logprobs with tokens and text offsets in the response");
  const json& tokens = lp["tokens"];
  const json& lps = lp["token_logprobs"];
  const json& offs = lp["text_offset"];
  const json& tops = lp.value("top_logprobs", json(nullptr));
  const size_t n = tokens.size();
  if (lps.size() != n || offs.size() != n) throw unavailable("logprobs lists of different lengths");
  // Offsets end where the echoed prompt ends; the continuation is the last n_chars of it.
  auto end_of = [&](size_t i) {
    return i + 1 < n ? offs[i + 1].get<int64_t>() : offs[i].get<int64_t>() + n_chars(tokens[i].get<std::string>());
  };
  const int64_t boundary = end_of(n - 1) - n_chars(continuation);
  size_t split = 0;
  while (split < n && end_of(split) <= boundary) ++split;
  split = std::max<size_t>(split, 1);  // the first token has no log-probability
  if (split >= n) throw unavailable("the continuation has no tokens in the echo");
  LoglikResponse r;
  r.greedy = true;
  for (size_t i = split; i < n; ++i) {
    if (!lps[i].is_number()) throw unavailable(fmt::format("no log-probability for prompt token {}", i));
    const double v = lps[i].get<double>();
    r.logprob += v;
    // Greedy as lm-eval judges it: the token is the most likely one among top_logprobs.
    bool top = tops.is_array() && i < tops.size() && tops[i].is_object();
    if (top)
      for (const auto& [tok, p] : tops[i].items())
        if (p.is_number() && p.get<double>() > v) top = false;
    r.greedy = r.greedy && top;
  }
  r.n_context_tokens = int64_t(split);
  r.n_continuation_tokens = int64_t(n - split);
  return r;
}

}  // namespace

std::vector<LoglikResponse> OpenAIBackend::loglikelihood(std::span<const LoglikRequest> requests) {
  std::vector<Impl::Call> calls;
  std::vector<std::string> continuations;
  for (const auto& r : requests) {
    if (r.context.chat && !impl_->o.render_chat)
      throw Error(
          "log-likelihood with a chat-formatted context: /v1/completions takes text, so give the model's "
          "chat template by name (--chat-template llama4|chatml|...) or run with --chat off");
    std::string context = r.context.chat ? impl_->o.render_chat(r.context.messages) : r.context.text;
    std::string continuation = rstrip_split(context) + r.continuation;
    json b = {{"model", impl_->o.model}, {"prompt", context + continuation}, {"max_tokens", 0}, {"echo", true},
              {"logprobs", 1}, {"temperature", 0.0}};
    if (r.context.chat) b["add_special_tokens"] = false;  // vLLM's field; the template wrote BOS
    calls.push_back({"/completions", std::move(b), {}, 0, {}});
    continuations.push_back(std::move(continuation));
  }
  impl_->run_all(calls);
  std::vector<LoglikResponse> out;
  for (size_t i = 0; i < calls.size(); ++i) {
    out.push_back(score_echo(calls[i].response, continuations[i], impl_->api_root + "/completions"));
    out.back().rendered_context = requests[i].context.chat ? impl_->o.render_chat(requests[i].context.messages)
                                                           : requests[i].context.text;
    out.back().seconds = calls[i].seconds;
  }
  return out;
}

}  // namespace scout::harness
