// The OpenAI HTTP backend against a scripted loopback HTTP server (plain POSIX sockets): retries
// with backoff on 429/5xx, no retry on 4xx, the API key only in the Authorization header, the
// request cache's keying and hits, and echo log-probabilities turned into log-likelihoods.
#include "harness/backends/openai_http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/test_paths.h"
#include "harness/store/request_cache.h"
#include "harness/store/store.h"

namespace scout::harness {
namespace {

using nlohmann::json;

// Answers each connection with the next scripted (status, body), then closes it; records the
// raw requests. After the script: 200 with `fallback`.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::deque<std::pair<int, std::string>> script, std::string fallback)
      : script_(std::move(script)), fallback_(std::move(fallback)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() {
    std::lock_guard lk(mu_);
    return requests_;
  }

 private:
  void loop() {
    while (!stop_) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      size_t need = std::string::npos;
      while (need == std::string::npos || req.size() < need) {
        const ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, size_t(n));
        const size_t head = req.find("\r\n\r\n");
        if (need == std::string::npos && head != std::string::npos) {
          const size_t cl = req.find("Content-Length: ");
          need = head + 4 + (cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16)));
        }
      }
      std::pair<int, std::string> reply{200, fallback_};
      {
        std::lock_guard lk(mu_);
        requests_.push_back(req);
        if (!script_.empty()) {
          reply = script_.front();
          script_.pop_front();
        }
      }
      const std::string out = "HTTP/1.1 " + std::to_string(reply.first) +
                              " X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                              std::to_string(reply.second.size()) + "\r\n\r\n" + reply.second;
      (void)!write(c, out.data(), out.size());
      close(c);
    }
  }

  std::deque<std::pair<int, std::string>> script_;
  std::string fallback_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

const std::string kCompletion =
    R"({"choices":[{"index":0,"text":" Paris","finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2}})";
const std::string kBusy = R"({"error":{"message":"overloaded","type":"server_error"}})";

GenerateRequest text_request(const std::string& prompt) {
  GenerateRequest r;
  r.prompt.text = prompt;
  r.settings.max_tokens = 4;
  return r;
}

OpenAIOptions options(const ScriptedServer& s) {
  OpenAIOptions o;
  o.base_url = s.url();
  o.model = "m";
  o.api_key = "sk-unit-test-key";
  o.backoff_s = 0.05;
  o.retries = 3;
  o.concurrency = 2;
  return o;
}

TEST(OpenAIHttp, RetriesWithBackoffOn429And5xx) {
  ScriptedServer s({{503, kBusy}, {429, kBusy}, {500, kBusy}}, kCompletion);
  OpenAIBackend b(options(s), nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  const auto out = b.generate_until(std::vector{text_request("The capital of France is")});
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, " Paris");
  EXPECT_EQ(out[0].finish_reason, "stop");
  EXPECT_EQ(out[0].n_output_tokens, 2);
  EXPECT_EQ(b.counters().sent, 4);
  EXPECT_EQ(b.counters().retried, 3);
  EXPECT_GE(waited, 0.05 + 0.1 + 0.2);  // doubling backoff
  const auto reqs = s.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_NE(reqs[0].find("POST /v1/completions "), std::string::npos);
  EXPECT_NE(reqs[0].find("Authorization: Bearer sk-unit-test-key"), std::string::npos);
  const auto body = json::parse(reqs[0].substr(reqs[0].find("\r\n\r\n") + 4));
  EXPECT_EQ(body["prompt"], "The capital of France is");
  EXPECT_EQ(body["model"], "m");
  EXPECT_EQ(body["max_tokens"], 4);
}

TEST(OpenAIHttp, GivesUpAfterRetriesAndNeverRetries4xx) {
  {
    ScriptedServer s({{502, kBusy}, {502, kBusy}, {502, kBusy}, {502, kBusy}, {502, kBusy}}, kCompletion);
    OpenAIBackend b(options(s), nullptr);
    try {
      b.generate_until(std::vector{text_request("x")});
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("HTTP 502"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("after 3 retries"), std::string::npos) << e.what();
    }
    EXPECT_EQ(b.counters().sent, 4);
  }
  ScriptedServer s({{400, R"({"error":{"message":"bad prompt"}})"}}, kCompletion);
  OpenAIBackend b(options(s), nullptr);
  try {
    b.generate_until(std::vector{text_request("x")});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 400: \"bad prompt\""), std::string::npos) << e.what();
  }
  EXPECT_EQ(b.counters().sent, 1);
}

TEST(OpenAIHttp, CacheKeyCoversUrlPathAndBodyNotKeyOrder) {
  using store::RequestCache;
  const json a = json::parse(R"({"model":"m","prompt":"p","seed":1})");
  const json b = json::parse(R"({"seed":1,"prompt":"p","model":"m"})");
  const auto k = RequestCache::key("http://h/v1", "/completions", a);
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(k, RequestCache::key("http://h/v1", "/completions", b));
  EXPECT_NE(k, RequestCache::key("http://other/v1", "/completions", a));
  EXPECT_NE(k, RequestCache::key("http://h/v1", "/chat/completions", a));
  json c = a;
  c["seed"] = 2;
  EXPECT_NE(k, RequestCache::key("http://h/v1", "/completions", c));
}

TEST(OpenAIHttp, SecondRunIsAnsweredFromTheCache) {
  const auto db = test::scratch_dir("openai_http_cache") / "results.db";
  auto st = store::Store::open(db);
  ScriptedServer s({}, kCompletion);
  const std::vector reqs{text_request("a"), text_request("b"), text_request("a")};
  {
    OpenAIBackend b(options(s), &st.db());
    EXPECT_EQ(b.generate_until(reqs)[1].text, " Paris");
    EXPECT_EQ(b.counters().sent, 3);
  }
  EXPECT_EQ(store::RequestCache(st.db()).size(), 2);  // "a" twice is one entry
  OpenAIBackend again(options(s), &st.db());
  const auto out = again.generate_until(reqs);
  EXPECT_EQ(out[2].text, " Paris");
  EXPECT_EQ(again.counters().sent, 0);
  EXPECT_EQ(again.counters().cached, 3);
  EXPECT_EQ(s.requests().size(), 3u);
  std::ifstream f(db, std::ios::binary);
  std::stringstream bytes;
  bytes << f.rdbuf();
  std::ifstream wal(db.string() + "-wal", std::ios::binary);
  bytes << wal.rdbuf();
  EXPECT_EQ(bytes.str().find("sk-unit-test-key"), std::string::npos);
}

TEST(OpenAIHttp, LoglikelihoodFromEchoedLogprobs) {
  // vLLM's shape: BOS text counted in the offsets; the continuation " B" is the last 2 chars.
  const std::string echo = R"({"choices":[{"index":0,"text":"Q: A B","logprobs":{
      "tokens":["<s>","Q",":"," A"," B"],"token_logprobs":[null,-1.5,-0.25,-2.0,-0.5],
      "text_offset":[0,3,4,5,7],
      "top_logprobs":[null,{"Q":-1.5},{":":-0.25},{" A":-2.0,"X":-0.1},{" B":-0.5}]}}]})";
  ScriptedServer s({}, echo);
  OpenAIBackend b(options(s), nullptr);
  LoglikRequest r;
  r.context.text = "Q: A ";  // trailing space moves to the continuation: " B"
  r.continuation = "B";
  const auto out = b.loglikelihood(std::vector{r});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_DOUBLE_EQ(out[0].logprob, -0.5);
  EXPECT_TRUE(out[0].greedy);
  EXPECT_EQ(out[0].n_continuation_tokens, 1);
  r.context.text = "Q:";
  r.continuation = " A B";
  const auto two = b.loglikelihood(std::vector{r});
  EXPECT_DOUBLE_EQ(two[0].logprob, -2.5);
  EXPECT_FALSE(two[0].greedy);  // " A" was not the most likely token
  const auto body = json::parse(s.requests()[0].substr(s.requests()[0].find("\r\n\r\n") + 4));
  EXPECT_EQ(body["echo"], true);
  EXPECT_EQ(body["max_tokens"], 0);
  EXPECT_EQ(body["logprobs"], 1);
  EXPECT_EQ(body["prompt"], "Q: A B");
}

TEST(OpenAIHttp, NoPromptLogprobsIsLogprobsUnavailable) {
  ScriptedServer s({}, R"({"choices":[{"index":0,"text":"Q: A","logprobs":null}]})");
  OpenAIBackend b(options(s), nullptr);
  LoglikRequest r;
  r.context.text = "Q:";
  r.continuation = " A";
  EXPECT_THROW(b.loglikelihood(std::vector{r}), LogprobsUnavailable);
}

}  // namespace
}  // namespace scout::harness
