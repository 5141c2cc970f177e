// Runner: samples stored per batch, resume after an interruption asks only for what is
// missing and ends with the metrics of an uninterrupted run; a finished run is not redone.
#include <gtest/gtest.h>

#include "common/test_paths.h"
#include "engine/util/error.h"
#include "harness/runner.h"
#include "harness/task_helpers.h"
#include "harness/testing/fake_backend.h"

namespace scout::harness {
namespace {

struct Interrupt : std::runtime_error {
  Interrupt() : std::runtime_error("interrupted") {}
};

struct RunnerTest : ::testing::Test {
  Components components = testing::toy_components();
  ProtocolRegistry registry;
  std::filesystem::path dir = test::scratch_dir("runner_test");

  void SetUp() override {
    registry.add(testing::toy_protocol({{"repeats", 3}, {"default", true}}));
    auto ll = testing::toy_protocol({{"protocol", "ll"},
                                     {"request", "loglikelihood"},
                                     {"choices", {{"continuation", "{text}"}}},
                                     {"metrics", {"acc_norm", "acc"}},
                                     {"primary_metric", "acc_norm"}});
    registry.add(ll);
  }

  RunOptions options(const std::string& protocol) {
    RunOptions o;
    o.tasks = {{"toy", protocol, {}}};
    o.batch_size = 2;
    o.data_dir = dir;
    o.model_sha256 = "model";
    o.progress = false;
    return o;
  }

  FakeBackend backend() {
    FakeBackend fake;
    // q0 answered right in every repeat, q1 wrong, q2 without an answer.
    fake.set_default([](const GenerateRequest& r) {
      const auto& t = r.prompt.text;
      if (t.find("Sky?") != std::string::npos) return std::string("Answer: A");
      if (t.find("Grass?") != std::string::npos) return std::string("Answer: C");
      return std::string("hmm");
    });
    return fake;
  }
};

TEST_F(RunnerTest, StoresEverySampleAndComputesMetrics) {
  auto st = store::Store::open(dir / "a.db");
  auto fake = backend();
  Runner runner(st, fake, registry, components);
  const auto r = runner.run(options("test"));
  ASSERT_EQ(r.tasks.size(), 1u);
  EXPECT_EQ(r.tasks[0].n_samples, 9);  // 3 docs x 3 repeats
  EXPECT_EQ(r.tasks[0].new_samples, 9);
  EXPECT_EQ(r.tasks[0].answer_not_found, 3);
  EXPECT_EQ(fake.generate_requests(), 9);
  double em = -1;
  for (const auto& m : r.tasks[0].metrics)
    if (m.task == "toy" && m.name == "exact_match") em = m.value;
  EXPECT_DOUBLE_EQ(em, 1.0 / 3.0);
  const auto run = st.find_run(r.run_id);
  EXPECT_EQ(run->status, store::RunStatus::done);
  // The same command again finds the finished run and computes nothing.
  const auto again = runner.run(options("test"));
  EXPECT_EQ(again.run_id, r.run_id);
  EXPECT_TRUE(again.was_done);
  EXPECT_EQ(fake.generate_requests(), 9);
}

TEST_F(RunnerTest, ResumeAfterInterruptionEqualsUninterruptedRun) {
  for (const std::string protocol : {"test", "ll"}) {
    // Reference: an uninterrupted run in its own database.
    auto ref_db = store::Store::open(dir / (protocol + "_ref.db"));
    auto ref_backend = backend();
    const auto ref = Runner(ref_db, ref_backend, registry, components).run(options(protocol));

    auto st = store::Store::open(dir / (protocol + "_resume.db"));
    auto fake = backend();
    Runner runner(st, fake, registry, components);
    int batches = 0;
    runner.on_batch = [&batches](const std::string&, int64_t, int64_t) {
      if (++batches == 2) throw Interrupt();
    };
    EXPECT_THROW(runner.run(options(protocol)), Interrupt);
    const auto failed = st.list_runs().front();
    EXPECT_EQ(failed.status, store::RunStatus::failed);
    const int64_t total = ref.tasks[0].n_samples;  // 9 generations, 3 log-likelihood docs
    const auto stored_before = int64_t(st.samples_for_run(failed.id).size());
    EXPECT_EQ(stored_before, std::min<int64_t>(4, total));  // two batches of two

    runner.on_batch = nullptr;
    const auto resumed = runner.run(options(protocol));
    EXPECT_TRUE(resumed.resumed);
    EXPECT_EQ(resumed.run_id, failed.id);
    EXPECT_EQ(resumed.tasks[0].new_samples, total - stored_before);

    const auto a = ref_db.metrics_for_run(ref.run_id);
    const auto b = st.metrics_for_run(resumed.run_id);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].task, b[i].task);
      EXPECT_EQ(a[i].name, b[i].name);
      EXPECT_EQ(a[i].value, b[i].value) << a[i].name;
      EXPECT_EQ(a[i].ci_low, b[i].ci_low);
      EXPECT_EQ(a[i].n, b[i].n);
    }
    const auto sa = ref_db.samples_for_run(ref.run_id), sb = st.samples_for_run(resumed.run_id);
    ASSERT_EQ(sa.size(), sb.size());
    std::map<std::pair<std::string, int64_t>, const store::Sample*> by_key;
    for (const auto& s : sb) by_key[{s.doc_id, s.repeat}] = &s;
    for (const auto& s : sa) {
      const auto* t = by_key.at({s.doc_id, s.repeat});
      EXPECT_EQ(s.output, t->output);
      EXPECT_EQ(s.score, t->score);
      EXPECT_EQ(s.prompt, t->prompt);
    }
  }
}

TEST_F(RunnerTest, DifferentSettingsAreDifferentRuns) {
  auto st = store::Store::open(dir / "c.db");
  auto fake = backend();
  Runner runner(st, fake, registry, components);
  const auto a = runner.run(options("test"));
  auto o = options("test");
  o.tasks[0].settings.limit = 2;
  const auto b = runner.run(o);
  EXPECT_NE(a.run_id, b.run_id);
  EXPECT_EQ(b.tasks[0].n_samples, 6);
  o.batch_size = 7;  // batching does not define results: same run
  EXPECT_EQ(runner.run(o).run_id, b.run_id);
}

TEST_F(RunnerTest, SameTaskUnderTwoProtocolsIsStoredUnderTwoNames) {
  auto st = store::Store::open(dir / "d.db");
  auto fake = backend();
  Runner runner(st, fake, registry, components);
  auto o = options("test");
  o.tasks.push_back({"toy", "ll", {}});
  const auto r = runner.run(o);
  ASSERT_EQ(r.tasks.size(), 2u);
  EXPECT_EQ(r.tasks[0].task, "toy@test");
  EXPECT_EQ(r.tasks[1].task, "toy@ll");
  EXPECT_EQ(st.samples_for_run(r.run_id, "toy@ll").size(), 3u);
  o.tasks.push_back({"toy", "ll", {}});
  EXPECT_THROW(runner.run(o), Error);
}

TEST(FakeBackend, ScriptedDefaultStopsAndLoglikelihood) {
  FakeBackend fake;
  Prompt p{false, "hello", {}};
  fake.script(p, "scripted STOP tail");
  GenerateRequest req{p, {}};
  req.settings.stop = {"STOP"};
  const auto out = fake.generate_until(std::span(&req, 1));
  EXPECT_EQ(out[0].text, "scripted ");
  EXPECT_EQ(out[0].finish_reason, "stop");
  const Prompt other{true, "", {{"user", "hi"}}};
  EXPECT_EQ(FakeBackend::render(other), "<|user|>\nhi\n<|assistant|>\n");
  GenerateRequest r2{other, {}};
  EXPECT_EQ(fake.generate_until(std::span(&r2, 1))[0].text, FakeBackend::hash_response(other));
  LoglikRequest l{p, " x"};
  const auto a = fake.loglikelihood(std::span(&l, 1));
  const auto b = fake.loglikelihood(std::span(&l, 1));
  EXPECT_EQ(a[0].logprob, b[0].logprob);
  EXPECT_LT(a[0].logprob, 0);
  const auto from_json = FakeBackend::from_json({{"responses", {{FakeBackend::prompt_key(p), "yes"}}}, {"default", "no"}});
  auto j = from_json;
  EXPECT_EQ(j.generate_until(std::span(&r2, 1))[0].text, "no");
}

}  // namespace
}  // namespace scout::harness
