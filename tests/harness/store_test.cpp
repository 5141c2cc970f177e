// Tests for the SQLite results store: migrations, WAL, transactions, resume semantics,
// round trips of every table, and crash safety under SIGKILL.
#include "engine/util/sha256.h"
#include "harness/store/store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "common/test_paths.h"
#include "engine/util/error.h"
#include "harness/store/schema.h"

namespace scout::store {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kUtf8 = "Grüße — 日本語 🦙 \"quoted\" 'single' ; DROP TABLE runs; --";

fs::path fresh_db(const std::string& name) { return test::scratch_dir(name) / "results.db"; }

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// The message of the scout::Error that `fn` throws ("" when it throws none).
template <class Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

int64_t count_rows(Store& s, std::string_view table) {
  // Table names here are test constants, never input.
  Statement q(s.db(), "SELECT COUNT(*) FROM " + std::string(table));
  q.step();
  return q.int64(0);
}

std::string pragma_text(Db& db, std::string_view sql) {
  Statement q(db, sql);
  return q.step() ? q.text(0) : "";
}

bool table_exists(Db& db, std::string_view name) {
  Statement q(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
  q.bind(1, name);
  return q.step();
}

std::string sha_of(std::string_view s) { return scout::sha256_hex(s.data(), s.size()); }

Model make_model(std::string_view tag) {
  return Model{.path = "/models/" + std::string(tag) + ".gguf", .sha256 = sha_of(tag),
               .file_size = 1234, .arch = "llama4", .file_type = "Q4_K_M",
               .n_params = 109'000'000'000, .metadata = json{{"general.name", kUtf8}}};
}

RunSpec make_spec(json config = {{"tasks", {"gsm8k"}}, {"shots", 8}}) {
  return RunSpec{.model_id = std::nullopt, .backend = BackendKind::native, .tasks = {"gsm8k"},
                 .protocol = "card-v1", .suite = "core", .seed = 1234, .batch_size = 8,
                 .config = std::move(config), .git_revision = "abc123",
                 .scout_version = "0.1.0", .host = json{{"cpu", "test"}}};
}

Sample make_sample(std::string task, std::string doc_id, int64_t repeat, std::string output) {
  return Sample{.task = std::move(task), .doc_id = std::move(doc_id), .repeat = repeat,
                .prompt = "Q?", .output = std::move(output), .answer = "42", .target = "42",
                .score = 1.0};
}

// ------------------------------------------------------------------------------ hashing

TEST(StoreHash, Sha256KnownVectors) {
  EXPECT_EQ(sha_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha_of("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 56 bytes: the padding spills into a second block.
  EXPECT_EQ(sha_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(StoreHash, ConfigHashIgnoresKeyOrderButNotValues) {
  json a = json::parse(R"({"b": 1, "a": {"y": [1, 2], "x": "s"}})");
  json b = json::parse(R"({"a": {"x": "s", "y": [1, 2]}, "b": 1})");
  json c = json::parse(R"({"a": {"x": "s", "y": [2, 1]}, "b": 1})");
  EXPECT_EQ(config_hash(a), config_hash(b));
  EXPECT_NE(config_hash(a), config_hash(c));
  EXPECT_EQ(config_hash(json::object()), sha_of("{}"));
}

// --------------------------------------------------------------------------- migrations

TEST(StoreSchema, MigratesEmptyDatabaseToLatest) {
  Store s = Store::open(fresh_db("store_migrate_empty"));
  EXPECT_EQ(current_schema_version(s.db()), latest_schema_version());
  EXPECT_EQ(count_rows(s, "schema_version"), latest_schema_version());
  for (auto table : {"models", "runs", "samples", "metrics", "quant_comparisons",
                     "kernel_benchmarks", "request_cache"}) {
    EXPECT_TRUE(table_exists(s.db(), table)) << table;
  }
  Statement q(s.db(), "SELECT name FROM schema_version WHERE version = 1");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.text(0), migrations()[0].name);
}

TEST(StoreSchema, ReopenIsANoOp) {
  fs::path path = fresh_db("store_reopen");
  std::string applied_at;
  int64_t model_id = 0;
  {
    Store s = Store::open(path);
    model_id = s.upsert_model(make_model("m"));
    applied_at = pragma_text(s.db(), "SELECT applied_at FROM schema_version WHERE version = 1");
  }
  // SQLite bumps its schema cookie on any DDL; an unchanged cookie proves nothing was re-run.
  std::string cookie;
  {
    Db raw(path);
    cookie = pragma_text(raw, "PRAGMA schema_version");
  }
  Store s = Store::open(path);
  EXPECT_EQ(pragma_text(s.db(), "PRAGMA schema_version"), cookie);
  EXPECT_EQ(count_rows(s, "schema_version"), latest_schema_version());
  EXPECT_EQ(pragma_text(s.db(), "SELECT applied_at FROM schema_version WHERE version = 1"),
            applied_at);
  ASSERT_TRUE(s.find_model(model_id));
  EXPECT_EQ(s.find_model(model_id)->path, "/models/m.gguf");
}

TEST(StoreSchema, FutureSchemaVersionFailsClearly) {
  fs::path path = fresh_db("store_future");
  { Store s = Store::open(path); }
  int future = latest_schema_version() + 1;
  {
    Db raw(path);
    Statement(raw, "INSERT INTO schema_version(version, name) VALUES (?1, 'from the future')")
        .bind(1, future)
        .run();
  }
  std::string msg = error_of([&] { Store::open(path); });
  EXPECT_TRUE(contains(msg, fmt::format("schema version {}", future))) << msg;
  EXPECT_TRUE(contains(msg, fmt::format("up to version {}", latest_schema_version()))) << msg;
  EXPECT_TRUE(contains(msg, path.string())) << msg;
  // And it was left untouched.
  Db raw(path);
  EXPECT_EQ(current_schema_version(raw), future);
}

TEST(StoreSchema, EachMigrationIsAtomicAndAppliedOnce) {
  Db db(fresh_db("store_migration_atomic") );
  const Migration good[] = {{1, "one", "CREATE TABLE a(x INTEGER);"},
                            {2, "two", "CREATE TABLE b(x INTEGER); INSERT INTO a VALUES (1);"}};
  const Migration broken[] = {{1, "one", "CREATE TABLE a(x INTEGER);"},
                              {2, "two", "CREATE TABLE b(x INTEGER); THIS IS NOT SQL;"}};
  std::string msg = error_of([&] { migrate(db, broken); });
  EXPECT_TRUE(contains(msg, "migration 2 (two) failed")) << msg;
  // Step 1 committed; step 2's first statement was rolled back with the rest of it.
  EXPECT_EQ(current_schema_version(db), 1);
  EXPECT_TRUE(table_exists(db, "a"));
  EXPECT_FALSE(table_exists(db, "b"));

  migrate(db, good);
  migrate(db, good);  // already at 2: must not run the INSERT again
  EXPECT_EQ(current_schema_version(db), 2);
  EXPECT_EQ(pragma_text(db, "SELECT COUNT(*) FROM a"), "1");
}

TEST(StoreSchema, MigrationListMustBeContiguous) {
  Db db(fresh_db("store_migration_gap"));
  const Migration gap[] = {{1, "one", "SELECT 1;"}, {3, "three", "SELECT 1;"}};
  EXPECT_TRUE(contains(error_of([&] { migrate(db, gap); }), "1..N"));
}

// --------------------------------------------------------------------------- connection

TEST(StoreOpen, TurnsOnWalForeignKeysAndBusyTimeout) {
  fs::path path = fresh_db("store_pragmas");
  Store s = Store::open(path, {.busy_timeout = std::chrono::milliseconds(1234)});
  EXPECT_EQ(pragma_text(s.db(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(pragma_text(s.db(), "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(pragma_text(s.db(), "PRAGMA busy_timeout"), "1234");
  // WAL is a property of the file: a plain connection sees it too.
  Db raw(path);
  EXPECT_EQ(pragma_text(raw, "PRAGMA journal_mode"), "wal");
}

TEST(StoreOpen, NotADatabaseNamesThePath) {
  fs::path path = test::scratch_dir("store_garbage") / "garbage.db";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::string junk(4096, 'x');
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
  }
  std::string msg = error_of([&] { Store::open(path); });
  EXPECT_TRUE(contains(msg, "not a database")) << msg;
  EXPECT_TRUE(contains(msg, path.string())) << msg;
}

TEST(StoreOpen, MissingDirectoryNamesThePath) {
  fs::path path = test::scratch_dir("store_missing_dir") / "no" / "such" / "dir" / "r.db";
  std::string msg = error_of([&] { Store::open(path); });
  EXPECT_TRUE(contains(msg, path.string())) << msg;
}

TEST(StoreOpen, ForeignKeysAreEnforced) {
  Store s = Store::open(fresh_db("store_fk"));
  std::vector<Sample> orphan{make_sample("t", "1", 0, "x")};
  std::string msg = error_of([&] { s.insert_samples(999, orphan); });
  EXPECT_TRUE(contains(msg, "FOREIGN KEY")) << msg;
  EXPECT_EQ(count_rows(s, "samples"), 0);
}

// ------------------------------------------------------------------------------ samples

TEST(StoreSamples, ReinsertIsIdempotentAndStoredSampleWins) {
  Store s = Store::open(fresh_db("store_idempotent"));
  int64_t run = s.begin_run(make_spec());
  std::vector<Sample> first{make_sample("gsm8k", "1", 0, "first"),
                            make_sample("gsm8k", "1", 1, "first"),
                            make_sample("gsm8k", "2", 0, "first")};
  EXPECT_EQ(s.insert_samples(run, first), 3);

  // A resumed run re-sends two known keys (with different outputs) and two new ones; the
  // same doc_id under another task is a different sample.
  std::vector<Sample> again{make_sample("gsm8k", "1", 0, "second"),
                            make_sample("gsm8k", "2", 0, "second"),
                            make_sample("gsm8k", "3", 0, "second"),
                            make_sample("math", "1", 0, "second")};
  EXPECT_EQ(s.insert_samples(run, again), 2);
  EXPECT_EQ(s.insert_samples(run, again), 0);

  auto samples = s.samples_for_run(run, "gsm8k");
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_EQ(samples[0].output, "first");
  EXPECT_EQ(samples[2].output, "first");
  EXPECT_EQ(samples[3].output, "second");
  EXPECT_EQ(s.samples_for_run(run).size(), 5u);

  std::set<SampleKey> expected{{"1", 0}, {"1", 1}, {"2", 0}, {"3", 0}};
  EXPECT_EQ(s.completed_sample_keys(run, "gsm8k"), expected);
  EXPECT_EQ(s.completed_sample_keys(run, "math"), (std::set<SampleKey>{{"1", 0}}));
  EXPECT_TRUE(s.completed_sample_keys(run, "ifeval").empty());
}

// A model's output cut mid-character: the raw text is kept byte for byte, and JSON holding it
// is stored with U+FFFD in place of the broken bytes instead of failing the batch.
TEST(StoreSamples, InvalidUtf8OutputIsKept) {
  Store s = Store::open(fresh_db("store_utf8"));
  int64_t run = s.begin_run(make_spec());
  const std::string broken = "caf\xc3";  // the first byte of a two-byte character, then the end
  Sample x = make_sample("gsm8k", "1", 0, broken);
  x.extra = {{"answer_text", broken}};
  EXPECT_EQ(s.insert_samples(run, std::vector{x}), 1);
  const auto back = s.samples_for_run(run);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].output, broken);
  EXPECT_EQ(back[0].extra.at("answer_text"), "caf\xef\xbf\xbd");
}

TEST(StoreSamples, DuplicateKeyWithinOneBatchKeepsTheFirst) {
  Store s = Store::open(fresh_db("store_dup_in_batch"));
  int64_t run = s.begin_run(make_spec());
  std::vector<Sample> batch{make_sample("t", "7", 0, "a"), make_sample("t", "7", 0, "b")};
  EXPECT_EQ(s.insert_samples(run, batch), 1);
  EXPECT_EQ(s.samples_for_run(run)[0].output, "a");
}

TEST(StoreSamples, ABadSampleRollsBackItsWholeBatch) {
  Store s = Store::open(fresh_db("store_bad_batch"));
  int64_t run = s.begin_run(make_spec());
  std::vector<Sample> batch{make_sample("t", "1", 0, "ok"), make_sample("t", "2", 0, "ok"),
                            make_sample("t", "3", -1, "negative repeat breaks a CHECK")};
  // Unlike INSERT OR IGNORE, a constraint violation is an error, not a silently dropped row.
  std::string msg = error_of([&] { s.insert_samples(run, batch); });
  EXPECT_TRUE(contains(msg, "CHECK constraint failed: repeat")) << msg;
  EXPECT_EQ(count_rows(s, "samples"), 0);
}

TEST(StoreSamples, RunsDoNotShareSamples) {
  Store s = Store::open(fresh_db("store_two_runs"));
  int64_t a = s.begin_run(make_spec());
  int64_t b = s.begin_run(make_spec());
  std::vector<Sample> one{make_sample("t", "1", 0, "x")};
  EXPECT_EQ(s.insert_samples(a, one), 1);
  EXPECT_EQ(s.insert_samples(b, one), 1);
  EXPECT_EQ(s.completed_sample_keys(a, "t").size(), 1u);
  EXPECT_EQ(s.samples_for_run(b).size(), 1u);
}

// --------------------------------------------------------------------------------- runs

TEST(StoreRuns, ResumeFindsTheRunByConfigAndAccumulatesWallTime) {
  Store s = Store::open(fresh_db("store_resume"));
  json config = json::parse(R"({"model": "abc", "tasks": ["gsm8k"], "shots": 8})");
  int64_t run = s.begin_run(make_spec(config));
  s.finish_run(run, RunStatus::failed, 10.0, "backend died");

  // The same config, keys in another order: the same run.
  auto found = s.find_run_by_config(json::parse(R"({"shots": 8, "tasks": ["gsm8k"], "model": "abc"})"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, run);
  EXPECT_EQ(found->status, RunStatus::failed);
  EXPECT_EQ(found->error, "backend died");
  EXPECT_TRUE(found->finished_at);
  EXPECT_FALSE(s.find_run_by_config(json{{"model", "abc"}}));

  s.resume_run(run);
  auto resumed = s.find_run(run);
  EXPECT_EQ(resumed->status, RunStatus::running);
  EXPECT_FALSE(resumed->finished_at);
  EXPECT_FALSE(resumed->error);

  s.finish_run(run, RunStatus::done, 5.5);
  auto done = s.find_run(run);
  EXPECT_EQ(done->status, RunStatus::done);
  EXPECT_DOUBLE_EQ(*done->wall_seconds, 15.5);

  // With several runs of one config, the newest is the one to resume.
  int64_t newer = s.begin_run(make_spec(config));
  EXPECT_EQ(s.find_run_by_config(config)->id, newer);
}

TEST(StoreRuns, FinishRunRejectsRunningStatusAndUnknownIds) {
  Store s = Store::open(fresh_db("store_finish_errors"));
  int64_t run = s.begin_run(make_spec());
  EXPECT_FALSE(error_of([&] { s.finish_run(run, RunStatus::running, 1); }).empty());
  EXPECT_TRUE(contains(error_of([&] { s.finish_run(run + 1, RunStatus::done, 1); }), "no run"));
  EXPECT_TRUE(contains(error_of([&] { s.resume_run(run + 1); }), "no run"));
}

TEST(StoreRuns, ListRunsIsNewestFirst) {
  Store s = Store::open(fresh_db("store_list_runs"));
  int64_t a = s.begin_run(make_spec());
  int64_t b = s.begin_run(make_spec());
  auto runs = s.list_runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, b);
  EXPECT_EQ(runs[1].id, a);
}

// -------------------------------------------------------------------------- transactions

TEST(StoreTransaction, ExceptionRollsEverythingBack) {
  Store s = Store::open(fresh_db("store_rollback"));
  try {
    auto tx = s.transaction();
    int64_t model = s.upsert_model(make_model("m"));
    RunSpec spec = make_spec();
    spec.model_id = model;
    int64_t run = s.begin_run(spec);
    std::vector<Sample> batch{make_sample("t", "1", 0, "x")};
    s.insert_samples(run, batch);  // its own transaction nests as a savepoint
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(s.db().in_transaction());
  EXPECT_EQ(count_rows(s, "models"), 0);
  EXPECT_EQ(count_rows(s, "runs"), 0);
  EXPECT_EQ(count_rows(s, "samples"), 0);
}

TEST(StoreTransaction, CommitPersistsAndNestedFailureUndoesOnlyItsPart) {
  fs::path path = fresh_db("store_commit");
  {
    Store s = Store::open(path);
    auto tx = s.transaction();
    int64_t run = s.begin_run(make_spec());
    std::vector<Sample> good{make_sample("t", "1", 0, "x")};
    std::vector<Sample> bad{make_sample("t", "2", 0, "x"), make_sample("t", "3", -5, "x")};
    s.insert_samples(run, good);
    EXPECT_THROW(s.insert_samples(run, bad), Error);  // rolls back to its savepoint only
    tx.commit();
    EXPECT_THROW(tx.commit(), Error);
  }
  Store s = Store::open(path);
  EXPECT_EQ(count_rows(s, "runs"), 1);
  EXPECT_EQ(count_rows(s, "samples"), 1);
}

// ------------------------------------------------------------------- two connections (WAL)

TEST(StoreConcurrency, ReaderKeepsItsSnapshotWhileWriterCommits) {
  fs::path path = fresh_db("store_two_connections");
  // A short busy timeout: if the reader blocked the writer (rollback journal), the write
  // would fail with SQLITE_BUSY instead of waiting.
  OpenOptions quick{.busy_timeout = std::chrono::milliseconds(100)};
  Store writer = Store::open(path, quick);
  Store reader = Store::open(path, quick);
  int64_t run = writer.begin_run(make_spec());
  std::vector<Sample> batch1{make_sample("t", "1", 0, "x"), make_sample("t", "2", 0, "x")};
  writer.insert_samples(run, batch1);

  reader.db().exec("BEGIN");  // a read transaction: one consistent snapshot
  EXPECT_EQ(reader.samples_for_run(run).size(), 2u);

  std::vector<Sample> batch2{make_sample("t", "3", 0, "x")};
  EXPECT_NO_THROW(writer.insert_samples(run, batch2));  // not blocked by the open reader
  {
    auto tx = writer.transaction();  // uncommitted work is invisible to the reader
    std::vector<Sample> batch3{make_sample("t", "4", 0, "x")};
    writer.insert_samples(run, batch3);
    EXPECT_EQ(reader.samples_for_run(run).size(), 2u);
  }
  EXPECT_EQ(reader.samples_for_run(run).size(), 2u);  // still its snapshot
  reader.db().exec("COMMIT");
  EXPECT_EQ(reader.samples_for_run(run).size(), 3u);  // now the committed batch, not batch3
}

TEST(StoreConcurrency, ConcurrentReaderOnlyEverSeesWholeBatches) {
  fs::path path = fresh_db("store_concurrent_batches");
  constexpr int kBatches = 40;
  constexpr int kBatchSize = 25;
  Store reader = Store::open(path);
  int64_t run = reader.begin_run(make_spec());
  std::atomic<bool> writing{true};
  std::string writer_error;
  std::thread writer_thread([&] {
    try {
      Store writer = Store::open(path);  // its own connection, as every thread must
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Sample> batch;
        for (int i = 0; i < kBatchSize; ++i) {
          batch.push_back(make_sample("t", fmt::format("{}-{}", b, i), 0, std::string(2048, 'o')));
        }
        writer.insert_samples(run, batch);
      }
    } catch (const std::exception& e) {
      writer_error = e.what();
    }
    writing = false;
  });
  // The reader typically catches several intermediate counts; every one must be whole batches.
  size_t last = 0;
  bool ok = true;
  while (writing) {
    size_t n = reader.completed_sample_keys(run, "t").size();
    ok = ok && n % kBatchSize == 0 && n >= last;
    last = n;
  }
  writer_thread.join();
  EXPECT_EQ(writer_error, "");
  EXPECT_TRUE(ok) << "a reader saw a partial batch or a shrinking count";
  EXPECT_EQ(reader.samples_for_run(run).size(), size_t(kBatches * kBatchSize));
}

// ---------------------------------------------------------------------------- round trips

TEST(StoreRoundTrip, ModelsWithAndWithoutNulls) {
  Store s = Store::open(fresh_db("store_rt_models"));
  Model full = make_model("full");
  Model bare = make_model("bare");
  bare.n_params = std::nullopt;
  bare.metadata = nullptr;
  int64_t full_id = s.upsert_model(full);
  int64_t bare_id = s.upsert_model(bare);

  auto got = s.find_model_by_sha256(full.sha256);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, full_id);
  EXPECT_EQ(got->path, full.path);
  EXPECT_EQ(got->file_size, full.file_size);
  EXPECT_EQ(got->arch, full.arch);
  EXPECT_EQ(got->file_type, full.file_type);
  EXPECT_EQ(got->n_params, full.n_params);
  EXPECT_EQ(got->metadata, full.metadata);
  EXPECT_EQ(got->metadata["general.name"], kUtf8);
  EXPECT_EQ(got->first_seen.size(), std::string("2025-01-01T00:00:00.000Z").size());

  auto got_bare = s.find_model(bare_id);
  EXPECT_FALSE(got_bare->n_params);
  EXPECT_TRUE(got_bare->metadata.is_null());
  EXPECT_EQ(s.list_models().size(), 2u);
  EXPECT_FALSE(s.find_model(12345));
}

TEST(StoreRoundTrip, UpsertModelKeepsIdAndFirstSeen) {
  Store s = Store::open(fresh_db("store_upsert_model"));
  Model m = make_model("m");
  int64_t id = s.upsert_model(m);
  std::string first_seen = s.find_model(id)->first_seen;
  m.path = "/moved/" + kUtf8 + ".gguf";
  EXPECT_EQ(s.upsert_model(m), id);
  EXPECT_EQ(s.find_model(id)->path, m.path);
  EXPECT_EQ(s.find_model(id)->first_seen, first_seen);
  EXPECT_EQ(s.list_models().size(), 1u);

  Model bad = make_model("x");
  bad.sha256 = "NOT-A-HASH";
  EXPECT_THROW(s.upsert_model(bad), Error);
}

TEST(StoreRoundTrip, RunsWithAndWithoutNulls) {
  Store s = Store::open(fresh_db("store_rt_runs"));
  int64_t model = s.upsert_model(make_model("m"));
  RunSpec full = make_spec(json{{"prompt", kUtf8}, {"temperature", 0.6}});
  full.model_id = model;
  full.backend = BackendKind::openai;
  full.tasks = {"gsm8k", "ifeval", kUtf8};
  RunSpec bare = make_spec();
  bare.suite = std::nullopt;
  bare.git_revision = std::nullopt;
  bare.host = nullptr;
  int64_t full_id = s.begin_run(full);
  int64_t bare_id = s.begin_run(bare);

  store::Run r = *s.find_run(full_id);
  EXPECT_EQ(r.model_id, model);
  EXPECT_EQ(r.backend, BackendKind::openai);
  EXPECT_EQ(r.tasks, full.tasks);
  EXPECT_EQ(r.protocol, full.protocol);
  EXPECT_EQ(r.suite, full.suite);
  EXPECT_EQ(r.seed, full.seed);
  EXPECT_EQ(r.batch_size, full.batch_size);
  EXPECT_EQ(r.config, full.config);
  EXPECT_EQ(r.config_hash, config_hash(full.config));
  EXPECT_EQ(r.git_revision, full.git_revision);
  EXPECT_EQ(r.scout_version, full.scout_version);
  EXPECT_EQ(r.host, full.host);
  EXPECT_FALSE(r.started_at.empty());
  EXPECT_FALSE(r.finished_at);
  EXPECT_EQ(r.status, RunStatus::running);
  EXPECT_FALSE(r.wall_seconds);
  EXPECT_FALSE(r.error);

  store::Run b = *s.find_run(bare_id);
  EXPECT_FALSE(b.model_id);
  EXPECT_FALSE(b.suite);
  EXPECT_FALSE(b.git_revision);
  EXPECT_TRUE(b.host.is_null());
}

TEST(StoreRoundTrip, SamplesWithAndWithoutNulls) {
  Store s = Store::open(fresh_db("store_rt_samples"));
  int64_t run = s.begin_run(make_spec());
  Sample full{.task = "ifeval", .doc_id = "doc/" + kUtf8, .repeat = 3,
              .prompt = std::string("with a NUL \0 inside ", 20) + kUtf8,
              .output = "raw\noutput\t" + kUtf8, .answer = kUtf8, .target = "B",
              .score = 0.25,
              .extra = json{{"verdicts", {true, false}}, {"loglik", {-1.5, -0.25}}},
              .n_prompt_tokens = 100, .n_output_tokens = 7, .seconds = 0.125};
  Sample bare{.task = "ifeval", .doc_id = "2", .repeat = 0, .prompt = "", .output = ""};
  std::vector<Sample> batch{full, bare};
  ASSERT_EQ(s.insert_samples(run, batch), 2);

  auto got = s.samples_for_run(run);
  ASSERT_EQ(got.size(), 2u);
  const Sample& f = got[0];
  EXPECT_EQ(f.task, full.task);
  EXPECT_EQ(f.doc_id, full.doc_id);
  EXPECT_EQ(f.repeat, full.repeat);
  EXPECT_EQ(f.prompt, full.prompt);
  EXPECT_EQ(f.prompt.size(), full.prompt.size());  // the NUL did not truncate it
  EXPECT_EQ(f.output, full.output);
  EXPECT_EQ(f.answer, full.answer);
  EXPECT_EQ(f.target, full.target);
  EXPECT_EQ(f.score, full.score);
  EXPECT_EQ(f.extra, full.extra);
  EXPECT_EQ(f.n_prompt_tokens, full.n_prompt_tokens);
  EXPECT_EQ(f.n_output_tokens, full.n_output_tokens);
  EXPECT_EQ(f.seconds, full.seconds);
  EXPECT_FALSE(f.created_at.empty());

  const Sample& b = got[1];
  EXPECT_EQ(b.prompt, "");
  EXPECT_FALSE(b.answer);
  EXPECT_FALSE(b.target);
  EXPECT_FALSE(b.score);
  EXPECT_TRUE(b.extra.is_null());
  EXPECT_FALSE(b.n_prompt_tokens);
  EXPECT_FALSE(b.n_output_tokens);
  EXPECT_FALSE(b.seconds);
  EXPECT_EQ(s.completed_sample_keys(run, "ifeval"),
            (std::set<SampleKey>{{full.doc_id, 3}, {"2", 0}}));
}

TEST(StoreRoundTrip, MetricsUpsertNullsAndNaN) {
  Store s = Store::open(fresh_db("store_rt_metrics"));
  int64_t run = s.begin_run(make_spec());
  std::vector<Metric> first{
      Metric{.task = "gsm8k", .name = "exact_match", .value = 0.5, .std_error = 0.05,
             .ci_low = 0.4, .ci_high = 0.6, .n = 100, .details = json{{"note", kUtf8}}},
      Metric{.task = "gsm8k", .name = "undefined", .value = std::nan(""), .n = 0}};
  s.put_metrics(run, first);

  auto got = s.metrics_for_run(run);  // ordered by task, metric
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].name, "exact_match");
  EXPECT_EQ(got[0].value, 0.5);
  EXPECT_EQ(got[0].std_error, 0.05);
  EXPECT_EQ(got[0].ci_low, 0.4);
  EXPECT_EQ(got[0].ci_high, 0.6);
  EXPECT_EQ(got[0].n, 100);
  EXPECT_EQ(got[0].details, first[0].details);
  EXPECT_FALSE(got[0].computed_at.empty());
  EXPECT_TRUE(std::isnan(got[1].value));
  EXPECT_FALSE(got[1].std_error);
  EXPECT_FALSE(got[1].ci_low);
  EXPECT_FALSE(got[1].ci_high);
  EXPECT_TRUE(got[1].details.is_null());

  // Recomputing after a resume replaces the value instead of adding a row.
  std::vector<Metric> again{Metric{.task = "gsm8k", .name = "exact_match", .value = 0.75,
                                   .n = 200}};
  s.put_metrics(run, again);
  got = s.metrics_for_run(run);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].value, 0.75);
  EXPECT_EQ(got[0].n, 200);
  EXPECT_FALSE(got[0].std_error);
}

TEST(StoreRoundTrip, QuantComparisons) {
  Store s = Store::open(fresh_db("store_rt_quant"));
  int64_t base = s.upsert_model(make_model("bf16"));
  int64_t test = s.upsert_model(make_model("q4"));
  QuantComparison full{.base_model_id = base, .test_model_id = test,
                       .text_source = "wikitext-2 " + kUtf8, .ctx = 512, .chunks = 40,
                       .ppl_base = 7.25, .ppl_test = 7.5, .kld_mean = 0.0125,
                       .kld_stderr = 0.001, .kld_median = 0.01, .kld_p90 = 0.03,
                       .kld_p99 = 0.2, .kld_max = 3.5, .same_top_p = 0.95,
                       .delta_p = json{{"mean", -0.001}, {"p99", 0.1}}, .tokens_scored = 20480};
  QuantComparison bare = full;
  bare.kld_stderr = std::nullopt;
  bare.delta_p = nullptr;
  int64_t full_id = s.insert_quant_comparison(full);
  s.insert_quant_comparison(bare);

  auto all = s.list_quant_comparisons();
  ASSERT_EQ(all.size(), 2u);
  const QuantComparison& f = all[0];
  EXPECT_EQ(f.id, full_id);
  EXPECT_EQ(f.base_model_id, base);
  EXPECT_EQ(f.test_model_id, test);
  EXPECT_EQ(f.text_source, full.text_source);
  EXPECT_EQ(f.ctx, 512);
  EXPECT_EQ(f.chunks, 40);
  EXPECT_EQ(f.ppl_base, 7.25);
  EXPECT_EQ(f.ppl_test, 7.5);
  EXPECT_EQ(f.kld_mean, 0.0125);
  EXPECT_EQ(f.kld_stderr, 0.001);
  EXPECT_EQ(f.kld_median, 0.01);
  EXPECT_EQ(f.kld_p90, 0.03);
  EXPECT_EQ(f.kld_p99, 0.2);
  EXPECT_EQ(f.kld_max, 3.5);
  EXPECT_EQ(f.same_top_p, 0.95);
  EXPECT_EQ(f.delta_p, full.delta_p);
  EXPECT_EQ(f.tokens_scored, 20480);
  EXPECT_FALSE(f.created_at.empty());
  EXPECT_FALSE(all[1].kld_stderr);
  EXPECT_TRUE(all[1].delta_p.is_null());

  EXPECT_EQ(s.list_quant_comparisons(base, test).size(), 2u);
  EXPECT_EQ(s.list_quant_comparisons(std::nullopt, test).size(), 2u);
  EXPECT_TRUE(s.list_quant_comparisons(test).empty());
  // Both models must exist.
  QuantComparison dangling = full;
  dangling.test_model_id = 999;
  EXPECT_THROW(s.insert_quant_comparison(dangling), Error);
}

TEST(StoreRoundTrip, KernelBenchmarks) {
  Store s = Store::open(fresh_db("store_rt_bench"));
  KernelBenchmark cpu{.name = "matmul_q4_K", .params = json{{"m", 4096}, {"k", 4096}},
                      .backend = KernelBackend::cpu, .device = "AMD EPYC " + kUtf8,
                      .threads = 16, .git_revision = "abc", .seconds_per_iter = 0.002,
                      .gb_per_s = 45.5, .gflop_per_s = 120.25};
  KernelBenchmark gpu{.name = "rmsnorm", .params = json::object(),
                      .backend = KernelBackend::cuda, .device = "H100",
                      .seconds_per_iter = 1e-6};
  int64_t cpu_id = s.insert_kernel_benchmark(cpu);
  s.insert_kernel_benchmark(gpu);

  auto all = s.list_kernel_benchmarks();
  ASSERT_EQ(all.size(), 2u);
  const KernelBenchmark& c = all[0];
  EXPECT_EQ(c.id, cpu_id);
  EXPECT_EQ(c.name, cpu.name);
  EXPECT_EQ(c.params, cpu.params);
  EXPECT_EQ(c.backend, KernelBackend::cpu);
  EXPECT_EQ(c.device, cpu.device);
  EXPECT_EQ(c.threads, 16);
  EXPECT_EQ(c.git_revision, "abc");
  EXPECT_EQ(c.seconds_per_iter, 0.002);
  EXPECT_EQ(c.gb_per_s, 45.5);
  EXPECT_EQ(c.gflop_per_s, 120.25);
  EXPECT_FALSE(c.created_at.empty());
  const KernelBenchmark& g = all[1];
  EXPECT_EQ(g.backend, KernelBackend::cuda);
  EXPECT_FALSE(g.threads);
  EXPECT_FALSE(g.git_revision);
  EXPECT_FALSE(g.gb_per_s);
  EXPECT_FALSE(g.gflop_per_s);
  EXPECT_EQ(s.list_kernel_benchmarks("rmsnorm").size(), 1u);
}

TEST(StoreRoundTrip, RequestCache) {
  Store s = Store::open(fresh_db("store_rt_cache"));
  std::string key = sha_of("request");
  EXPECT_FALSE(s.cached_response(key));
  json response = {{"choices", {{{"text", kUtf8}}}}, {"usage", {{"total_tokens", 3}}}};
  s.put_cached_response(key, response);
  EXPECT_EQ(s.cached_response(key), response);
  json newer = {{"choices", json::array()}};
  s.put_cached_response(key, newer);
  EXPECT_EQ(s.cached_response(key), newer);
  EXPECT_EQ(count_rows(s, "request_cache"), 1);
  EXPECT_THROW(s.put_cached_response("short", response), Error);
}

// --------------------------------------------------------------------------- crash safety

// Kills and reaps the child however the test exits, so a failed assertion leaves no orphan.
struct ChildGuard {
  pid_t pid;
  int wait_status = 0;
  bool reaped = false;
  void kill_and_reap() {
    if (reaped) return;
    ::kill(pid, SIGKILL);
    waitpid(pid, &wait_status, 0);
    reaped = true;
  }
  ~ChildGuard() { kill_and_reap(); }
};

constexpr int kCrashBatch = 50;

std::vector<Sample> crash_batch(int b) {
  std::vector<Sample> batch;
  for (int i = 0; i < kCrashBatch; ++i) {
    Sample s = make_sample("t", fmt::format("{}-{}", b, i), 0, std::string(4096, 'o'));
    batch.push_back(std::move(s));
  }
  return batch;
}

// The child writes through its own connection (SQLite connections must not cross fork) with a
// tiny page cache, so uncommitted pages spill into the WAL before COMMIT. After each committed
// batch it reports the batch number on `fd`; with `stall_after` >= 0 it then opens a batch it
// never commits, reports -1 and keeps writing inside it until killed.
[[noreturn]] void crash_child(const fs::path& path, int64_t run, int fd, int stall_after) {
  try {
    Store s = Store::open(path);
    s.db().exec("PRAGMA cache_size = 4");
    for (int b = 0;; ++b) {
      if (b == stall_after) {
        auto tx = s.transaction();
        for (int half = 0;; ++half) {
          s.insert_samples(run, crash_batch(1000 + half));
          int marker = -1;
          if (half == 0 && write(fd, &marker, sizeof marker) != sizeof marker) _exit(4);
        }
      }
      s.insert_samples(run, crash_batch(b));
      if (write(fd, &b, sizeof b) != sizeof b) _exit(4);
    }
  } catch (...) {
    _exit(3);
  }
}

// Reads reports until one equals `until`; false if the child died first.
bool await_report(int fd, int until) {
  int value = 0;
  while (read(fd, &value, sizeof value) == sizeof value) {
    if (value == until) return true;
  }
  return false;
}

// Checks the reopened database: intact, and holding exactly batches 0..n-1, each whole.
int64_t check_whole_batches(const fs::path& path, int64_t run) {
  Store s = Store::open(path);
  EXPECT_EQ(pragma_text(s.db(), "PRAGMA integrity_check"), "ok");
  auto keys = s.completed_sample_keys(run, "t");
  EXPECT_EQ(keys.size() % kCrashBatch, 0u) << "a partial batch survived the crash";
  int64_t n = static_cast<int64_t>(keys.size()) / kCrashBatch;
  for (int b = 0; b < n; ++b) {
    for (int i = 0; i < kCrashBatch; ++i) {
      EXPECT_TRUE(keys.count(SampleKey{fmt::format("{}-{}", b, i), 0})) << b << "-" << i;
    }
  }
  return n;
}

int64_t prepare_crash_db(const fs::path& path) {
  Store s = Store::open(path);
  return s.begin_run(make_spec());
}

TEST(StoreCrash, SigkillInsideAnOpenBatchLeavesOnlyCommittedBatches) {
  fs::path path = fresh_db("store_crash_stalled");
  int64_t run = prepare_crash_db(path);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    crash_child(path, run, fds[1], /*stall_after=*/3);
  }
  close(fds[1]);
  ChildGuard child{pid};
  ASSERT_TRUE(await_report(fds[0], -1)) << "child died before reaching the open batch";
  close(fds[0]);
  child.kill_and_reap();
  ASSERT_TRUE(WIFSIGNALED(child.wait_status));
  EXPECT_EQ(WTERMSIG(child.wait_status), SIGKILL);
  // The uncommitted batch reached the WAL file; recovery must ignore it.
  ASSERT_TRUE(fs::exists(path.string() + "-wal"));

  EXPECT_EQ(check_whole_batches(path, run), 3);
  // Resume: re-sending everything adds only what was missing, and no duplicates.
  Store s = Store::open(path);
  for (int b = 0; b < 5; ++b) {
    EXPECT_EQ(s.insert_samples(run, crash_batch(b)), b < 3 ? 0 : kCrashBatch);
  }
  EXPECT_EQ(count_rows(s, "samples"), 5 * kCrashBatch);
}

TEST(StoreCrash, SigkillWhileInsertingBatchesLeavesOnlyWholeBatches) {
  fs::path path = fresh_db("store_crash_running");
  int64_t run = prepare_crash_db(path);
  // Several kills at slightly different moments of a free-running writer.
  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      crash_child(path, run, fds[1], /*stall_after=*/-1);
    }
    close(fds[1]);
    ChildGuard child{pid};
    ASSERT_TRUE(await_report(fds[0], 2 + round)) << "child died early";
    close(fds[0]);
    // A batch takes about a millisecond: kill at different points of the next ones.
    std::this_thread::sleep_for(std::chrono::microseconds(300 + 900 * round));
    child.kill_and_reap();
    ASSERT_TRUE(WIFSIGNALED(child.wait_status));
    EXPECT_GE(check_whole_batches(path, run), 3 + round);
  }
}

}  // namespace
}  // namespace scout::store
