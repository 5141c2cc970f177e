// The resume contract under kill -9: a run killed at random points (several times) and then
// started again with the same settings ends with exactly the samples and metrics of an
// uninterrupted run — no sample lost, none duplicated. Checked in-process (fork + SIGKILL of
// a child running the Runner) and through the scout-eval binary (--fake-backend).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "harness/runner.h"
#include "harness/store/sqlite.h"
#include "harness/testing/fake_backend.h"
#include "task_test_helpers.h"

extern char** environ;

namespace scout::tasks {
namespace {

using namespace testing;
using Key = std::tuple<std::string, std::string, int64_t>;

harness::RunOptions resume_options() {
  harness::RunOptions o;
  auto with = [](std::optional<int64_t> limit, std::optional<int64_t> per_group, std::optional<int64_t> repeats) {
    harness::TaskSettings s;
    s.limit = limit;
    s.limit_per_group = per_group;
    s.repeats = repeats;
    return s;
  };
  o.tasks = {{"math500", "artificial-analysis", with(16, {}, 2)},
             {"gpqa_diamond", "simple-evals", with(6, {}, 4)},
             {"bbh", "open-llm-leaderboard-v2", with({}, 1, {})},
             {"ifeval", "open-llm-leaderboard-v2", with(10, {}, {})}};
  o.batch_size = 3;
  o.data_dir = test::datasets_dir();
  o.model_sha256 = "fake-model";
  o.progress = false;
  return o;
}

harness::FakeBackend slow_fake() {
  harness::FakeBackend fake;
  fake.set_delay(std::chrono::microseconds(2500));
  return fake;
}

void run_to_completion(const std::filesystem::path& db) {
  auto st = store::Store::open(db);
  auto fake = slow_fake();
  harness::Runner(st, fake, catalog().protocols, catalog().components).run(resume_options());
}

struct Snapshot {
  std::map<Key, store::Sample> samples;
  size_t rows = 0;
  std::map<std::pair<std::string, std::string>, store::Metric> metrics;
  store::RunStatus status = store::RunStatus::running;
};

Snapshot snapshot(const std::filesystem::path& db) {
  auto st = store::Store::open(db);
  Snapshot s;
  const auto runs = st.list_runs();
  EXPECT_EQ(runs.size(), 1u) << db;  // resuming never starts a second run
  if (runs.empty()) return s;
  s.status = runs[0].status;
  for (auto& smp : st.samples_for_run(runs[0].id)) {
    ++s.rows;
    s.samples[{smp.task, smp.doc_id, smp.repeat}] = smp;
  }
  for (auto& m : st.metrics_for_run(runs[0].id)) s.metrics[{m.task, m.name}] = m;
  return s;
}

// Stored sample rows of the database's run (0 while it has none or the file is not there yet).
size_t count_rows(const std::filesystem::path& db) {
  if (!std::filesystem::exists(db)) return 0;
  auto st = store::Store::open(db);
  store::Statement q(st.db(), "SELECT COUNT(*) FROM samples");
  return q.step() ? size_t(q.int64(0)) : 0;
}

// Waits until the child has stored more than `before` samples (or has finished), lets it run
// a random few milliseconds more, then SIGKILLs it. Returns whether the kill landed.
bool kill_after_progress(pid_t pid, const std::filesystem::path& db, size_t before, std::mt19937& rng) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) return false;  // finished before the kill
    if (count_rows(db) > before) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 40)(rng)));
  const bool killed = kill(pid, SIGKILL) == 0;
  waitpid(pid, &status, 0);
  return killed && WIFSIGNALED(status);
}

void expect_same(const Snapshot& ref, const Snapshot& got) {
  EXPECT_EQ(got.status, store::RunStatus::done);
  EXPECT_EQ(got.rows, got.samples.size());  // no duplicates
  ASSERT_EQ(ref.samples.size(), got.samples.size());  // none lost
  for (const auto& [k, s] : ref.samples) {
    const auto it = got.samples.find(k);
    ASSERT_NE(it, got.samples.end()) << std::get<0>(k) << " " << std::get<1>(k);
    EXPECT_EQ(s.output, it->second.output);
    EXPECT_EQ(s.answer, it->second.answer);
    EXPECT_EQ(s.score, it->second.score);
  }
  ASSERT_EQ(ref.metrics.size(), got.metrics.size());
  for (const auto& [k, m] : ref.metrics) {
    const auto& g = got.metrics.at(k);
    EXPECT_EQ(m.value, g.value) << k.first << " " << k.second;
    EXPECT_EQ(m.ci_low, g.ci_low);
    EXPECT_EQ(m.ci_high, g.ci_high);
    EXPECT_EQ(m.n, g.n);
  }
}

TEST(ResumeUnderKill, ForkedRunnerKilledAtRandomPoints) {
  SCOUT_REQUIRE_DATA("math500");
  SCOUT_REQUIRE_DATA("gpqa");
  SCOUT_REQUIRE_DATA("bbh");
  SCOUT_REQUIRE_DATA("ifeval");
  const auto dir = test::scratch_dir("resume_fork");
  run_to_completion(dir / "reference.db");
  const Snapshot ref = snapshot(dir / "reference.db");
  ASSERT_EQ(ref.samples.size(), 16u * 2 + 6 * 4 + 24 + 10);

  const auto db = dir / "killed.db";
  std::mt19937 rng(20240607);
  size_t stored = 0;
  int kills = 0, mid_run = 0;  // kills that left a partly stored run behind
  for (int attempt = 0; attempt < 5; ++attempt) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child opens its own connection (a Store never crosses fork) and runs until killed.
      try {
        run_to_completion(db);
      } catch (...) {
        _exit(3);
      }
      _exit(0);
    }
    kills += kill_after_progress(pid, db, stored, rng);
    const Snapshot now = snapshot(db);
    EXPECT_EQ(now.rows, now.samples.size());
    EXPECT_GE(now.samples.size(), stored);  // progress is never lost
    stored = now.samples.size();
    mid_run += stored > 0 && stored < ref.samples.size();
  }
  EXPECT_GE(kills, 3);
  EXPECT_GE(mid_run, 2) << "the kills did not interrupt runs in progress";
  run_to_completion(db);
  expect_same(ref, snapshot(db));
}

std::filesystem::path scout_eval_binary() { return std::filesystem::path(SCOUT_BINARY_DIR) / "cli" / "scout-eval"; }

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

TEST(ResumeUnderKill, ScoutEvalRunKilledAndRerunWithTheSameCommand) {
  SCOUT_REQUIRE_DATA("math500");
  SCOUT_REQUIRE_DATA("bbh");
  if (!std::filesystem::exists(scout_eval_binary())) GTEST_SKIP() << "scout-eval not built";
  const auto dir = test::scratch_dir("resume_cli");
  const auto script = dir / "fake.json";
  std::ofstream(script) << R"({"default": "hash", "delay_ms": 3})";
  auto command = [&](const std::filesystem::path& db) {
    return std::vector<std::string>{scout_eval_binary().string(), "run", "--tasks",
                                    "math500@artificial-analysis,bbh@open-llm-leaderboard-v2,gpqa_main@simple-evals",
                                    "--limit", "12", "--repeats", "2", "--batch", "2", "--db", db.string(),
                                    "--data-dir", test::datasets_dir().string(), "--fake-backend", script.string(),
                                    "--no-progress"};
  };
  auto wait_ok = [](pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  };
  ASSERT_TRUE(wait_ok(spawn(command(dir / "reference.db"))));
  const Snapshot ref = snapshot(dir / "reference.db");
  ASSERT_EQ(ref.samples.size(), 12u * 2 + 12 + 12 * 2);

  std::mt19937 rng(7);
  int kills = 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    const pid_t pid = spawn(command(dir / "killed.db"));
    ASSERT_GT(pid, 0);
    kills += kill_after_progress(pid, dir / "killed.db", count_rows(dir / "killed.db"), rng);
  }
  EXPECT_GE(kills, 2);
  EXPECT_LT(count_rows(dir / "killed.db"), ref.samples.size());
  ASSERT_TRUE(wait_ok(spawn(command(dir / "killed.db"))));
  expect_same(ref, snapshot(dir / "killed.db"));
}

}  // namespace
}  // namespace scout::tasks
