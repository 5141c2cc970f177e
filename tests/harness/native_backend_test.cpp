// NativeBackend on the real SmolLM2-135M-Instruct (skipped when scripts/setup.sh has not
// fetched it): batching does not change results, a greedy generation is greedy under the
// log-likelihood path too, chat prompts go through the model's template.
#include <gtest/gtest.h>

#include "common/test_paths.h"
#include "harness/backends/native.h"

namespace scout::harness {
namespace {

struct NativeTest : ::testing::Test {
  static std::unique_ptr<NativeBackend> backend;
  static void SetUpTestSuite() {
    const auto path = test::smollm2_path();
    if (path.empty()) return;
    NativeOptions o;
    o.n_ctx = 1024;
    o.n_threads = 2;
    backend = std::make_unique<NativeBackend>(path.string(), o);
  }
  static void TearDownTestSuite() { backend.reset(); }
  void SetUp() override {
    if (!backend) GTEST_SKIP() << "SmolLM2 GGUF not present";
  }
};
std::unique_ptr<NativeBackend> NativeTest::backend;

GenerateRequest greedy(std::string text, int64_t n) {
  GenerateRequest r;
  r.prompt = {false, std::move(text), {}};
  r.settings.max_tokens = n;
  return r;
}

TEST_F(NativeTest, BatchedGenerationEqualsSingle) {
  const std::vector<GenerateRequest> reqs = {greedy("The capital of France is", 6), greedy("1, 2, 3, 4,", 6)};
  const auto both = backend->generate_until(reqs);
  const auto first = backend->generate_until(std::span(reqs.data(), 1));
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].text, first[0].text);
  EXPECT_GT(both[0].n_prompt_tokens, 3);
  EXPECT_GT(both[0].n_output_tokens, 0);
  EXPECT_EQ(backend->describe(), "native:" + test::smollm2_path().filename().string());
}

TEST_F(NativeTest, GreedyContinuationIsGreedyUnderLoglikelihood) {
  const auto gen = backend->generate_until(std::vector<GenerateRequest>{greedy("The capital of France is", 2)});
  ASSERT_FALSE(gen[0].text.empty());
  const std::vector<LoglikRequest> reqs = {{{false, "The capital of France is", {}}, gen[0].text},
                                           {{false, "The capital of France is", {}}, " banana banana"}};
  const auto ll = backend->loglikelihood(reqs);
  EXPECT_TRUE(ll[0].greedy) << "generated: " << gen[0].text;
  EXPECT_LT(ll[0].logprob, 0.0);
  EXPECT_GT(ll[0].logprob, ll[1].logprob);
  EXPECT_FALSE(ll[1].greedy);
  // Alone or batched, the same number.
  EXPECT_EQ(backend->loglikelihood(std::span(reqs.data(), 1))[0].logprob, ll[0].logprob);
}

TEST_F(NativeTest, ChatPromptsUseTheModelTemplateAndStopStrings) {
  GenerateRequest r;
  r.prompt = {true, "", {{"user", "Count: 1, 2, 3"}}};
  r.settings.max_tokens = 12;
  r.settings.stop = {"5"};
  const auto out = backend->generate_until(std::span(&r, 1));
  EXPECT_NE(out[0].rendered_prompt.find("<|im_start|>user\nCount: 1, 2, 3<|im_end|>"), std::string::npos);
  EXPECT_TRUE(out[0].rendered_prompt.ends_with("<|im_start|>assistant\n"));
  EXPECT_EQ(out[0].text.find('5'), std::string::npos);
  EXPECT_EQ(backend->config()["chat_template"], "chatml");
}

}  // namespace
}  // namespace scout::harness
