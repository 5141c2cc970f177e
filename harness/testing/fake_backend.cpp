#include "harness/testing/fake_backend.h"

#include <fmt/format.h>

#include <thread>

#include "engine/util/error.h"
#include "engine/util/sha256.h"

namespace scout::harness {
namespace {

uint64_t fnv1a(std::string_view a, std::string_view b = {}) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  mix(a);
  mix("\x1f");
  mix(b);
  return h;
}

int64_t count_words(std::string_view s) {
  int64_t n = 0;
  bool in_word = false;
  for (char c : s) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

// Cuts the text before the first stop string, as a real backend does.
std::string apply_stops(std::string text, const std::vector<std::string>& stops, std::string& reason) {
  size_t cut = std::string::npos;
  for (const auto& s : stops)
    if (!s.empty()) cut = std::min(cut, text.find(s));
  reason = "length";
  if (cut != std::string::npos) {
    text.resize(cut);
    reason = "stop";
  }
  return text;
}

}  // namespace

FakeBackend::FakeBackend() : default_([](const GenerateRequest& r) { return hash_response(r.prompt); }) {}

std::string FakeBackend::render(const Prompt& prompt) {
  if (!prompt.chat) return prompt.text;
  std::string out;
  for (const auto& m : prompt.messages) out += "<|" + m.role + "|>\n" + m.content + "\n";
  return out + "<|assistant|>\n";
}

std::string FakeBackend::prompt_key(const Prompt& prompt) {
  const std::string r = render(prompt);
  return sha256_hex(r.data(), r.size());
}

std::string FakeBackend::hash_response(const Prompt& prompt) {
  const uint64_t h = fnv1a(render(prompt));
  const char letter = "ABCD"[h % 4];
  const uint64_t number = (h >> 8) % 10;
  return fmt::format(
      "Let me think. The best answer is {0}.\nAnswer: {0}\nSo the answer is {0}.\n$\\boxed{{{1}}}$\n"
      "Final Answer: The final answer is {1}. I hope it is correct.",
      letter, number);
}

double FakeBackend::fake_logprob(std::string_view rendered_context, std::string_view continuation) {
  const uint64_t h = fnv1a(rendered_context, continuation);
  return -double(h % 100000) / 10000.0 - 0.05 * double(continuation.size()) - 0.001;
}

void FakeBackend::script(const Prompt& prompt, std::string response) {
  script_[prompt_key(prompt)] = std::move(response);
}

void FakeBackend::script_key(std::string key_sha256, std::string response) {
  script_[std::move(key_sha256)] = std::move(response);
}

FakeBackend FakeBackend::from_json(const nlohmann::json& config) {
  FakeBackend fake;
  if (!config.is_object()) throw Error("fake backend script: expected a JSON object");
  if (config.contains("responses"))
    for (const auto& [key, text] : config.at("responses").items()) fake.script_key(key, text.get<std::string>());
  if (config.contains("default")) {
    const std::string mode = config.at("default").get<std::string>();
    if (mode == "echo")
      fake.set_default([](const GenerateRequest& r) { return render(r.prompt); });
    else if (mode != "hash")
      fake.set_default([mode](const GenerateRequest&) { return mode; });
  }
  if (config.contains("delay_ms"))
    fake.set_delay(std::chrono::microseconds(int64_t(config.at("delay_ms").get<double>() * 1000)));
  return fake;
}

std::vector<GenerateResponse> FakeBackend::generate_until(std::span<const GenerateRequest> requests) {
  std::vector<GenerateResponse> out;
  out.reserve(requests.size());
  for (const auto& req : requests) {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    GenerateResponse r;
    r.rendered_prompt = render(req.prompt);
    const auto it = script_.find(prompt_key(req.prompt));
    r.text = apply_stops(it != script_.end() ? it->second : default_(req), req.settings.stop, r.finish_reason);
    r.n_prompt_tokens = count_words(r.rendered_prompt);
    r.n_output_tokens = count_words(r.text);
    r.seconds = double(delay_.count()) * 1e-6;
    out.push_back(std::move(r));
    ++generate_requests_;
  }
  return out;
}

std::vector<LoglikResponse> FakeBackend::loglikelihood(std::span<const LoglikRequest> requests) {
  std::vector<LoglikResponse> out;
  out.reserve(requests.size());
  for (const auto& req : requests) {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    LoglikResponse r;
    r.rendered_context = render(req.context);
    r.logprob = fake_logprob(r.rendered_context, req.continuation);
    r.greedy = fnv1a(r.rendered_context, req.continuation) % 7 == 0;
    r.n_context_tokens = count_words(r.rendered_context);
    r.n_continuation_tokens = std::max<int64_t>(1, count_words(req.continuation));
    r.seconds = double(delay_.count()) * 1e-6;
    out.push_back(std::move(r));
    ++loglik_requests_;
  }
  return out;
}

}  // namespace scout::harness
