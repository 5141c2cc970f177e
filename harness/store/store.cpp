#include "harness/store/store.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <limits>

#include "engine/util/error.h"
#include "engine/util/sha256.h"
#include "harness/store/schema.h"

namespace scout::store {
namespace {

using nlohmann::json;

// ------------------------------------------------------------------------------- SHA-256
// FIPS 180-4. Small and local because the store needs only the hash of a config text.

// --------------------------------------------------------------------------- enum names

template <class E, size_t N>
E parse_enum(std::string_view s, const std::array<E, N>& values, std::string_view what) {
  for (E v : values) {
    if (to_string(v) == s) return v;
  }
  throw Error(fmt::format("unknown {} '{}'", what, s));
}

// ------------------------------------------------------------------------- row readers
// Each SELECT lists its columns in the order its reader consumes them.

constexpr std::string_view kModelColumns =
    "id, path, sha256, file_size, arch, file_type, n_params, metadata, first_seen";

Model read_model(const Statement& q) {
  return Model{.id = q.int64(0), .path = q.text(1), .sha256 = q.text(2),
               .file_size = q.int64(3), .arch = q.text(4), .file_type = q.text(5),
               .n_params = q.opt_int64(6), .metadata = q.json(7), .first_seen = q.text(8)};
}

constexpr std::string_view kRunColumns =
    "id, model_id, backend, tasks, protocol, suite, seed, batch_size, config, config_hash, "
    "git_revision, scout_version, host, started_at, finished_at, status, wall_seconds, error";

Run read_run(const Statement& q) {
  Run r;
  r.id = q.int64(0);
  r.model_id = q.opt_int64(1);
  r.backend = parse_backend_kind(q.text(2));
  r.tasks = q.json(3).get<std::vector<std::string>>();
  r.protocol = q.text(4);
  r.suite = q.opt_text(5);
  r.seed = q.int64(6);
  r.batch_size = q.int64(7);
  r.config = q.json(8);
  r.config_hash = q.text(9);
  r.git_revision = q.opt_text(10);
  r.scout_version = q.text(11);
  r.host = q.json(12);
  r.started_at = q.text(13);
  r.finished_at = q.opt_text(14);
  r.status = parse_run_status(q.text(15));
  r.wall_seconds = q.opt_real(16);
  r.error = q.opt_text(17);
  return r;
}

constexpr std::string_view kSampleColumns =
    "task, doc_id, repeat, prompt, output, answer, target, score, extra, n_prompt_tokens, "
    "n_output_tokens, seconds, created_at";

Sample read_sample(const Statement& q) {
  return Sample{.task = q.text(0), .doc_id = q.text(1), .repeat = q.int64(2),
                .prompt = q.text(3), .output = q.text(4), .answer = q.opt_text(5),
                .target = q.opt_text(6), .score = q.opt_real(7), .extra = q.json(8),
                .n_prompt_tokens = q.opt_int64(9), .n_output_tokens = q.opt_int64(10),
                .seconds = q.opt_real(11), .created_at = q.text(12)};
}

constexpr std::string_view kMetricColumns =
    "task, metric, value, std_error, ci_low, ci_high, n, details, computed_at";

Metric read_metric(const Statement& q) {
  return Metric{.task = q.text(0), .name = q.text(1),
                .value = q.opt_real(2).value_or(std::numeric_limits<double>::quiet_NaN()),
                .std_error = q.opt_real(3), .ci_low = q.opt_real(4), .ci_high = q.opt_real(5),
                .n = q.int64(6), .details = q.json(7), .computed_at = q.text(8)};
}

constexpr std::string_view kQuantColumns =
    "id, base_model_id, test_model_id, text_source, ctx, chunks, ppl_base, ppl_test, "
    "kld_mean, kld_stderr, kld_median, kld_p90, kld_p99, kld_max, same_top_p, delta_p, "
    "tokens_scored, created_at";

QuantComparison read_quant(const Statement& q) {
  return QuantComparison{
      .id = q.int64(0), .base_model_id = q.int64(1), .test_model_id = q.int64(2),
      .text_source = q.text(3), .ctx = q.int64(4), .chunks = q.int64(5),
      .ppl_base = q.real(6), .ppl_test = q.real(7), .kld_mean = q.real(8),
      .kld_stderr = q.opt_real(9), .kld_median = q.real(10), .kld_p90 = q.real(11),
      .kld_p99 = q.real(12), .kld_max = q.real(13), .same_top_p = q.real(14),
      .delta_p = q.json(15), .tokens_scored = q.int64(16), .created_at = q.text(17)};
}

constexpr std::string_view kBenchColumns =
    "id, name, params, backend, device, threads, git_revision, seconds_per_iter, gb_per_s, "
    "gflop_per_s, created_at";

KernelBenchmark read_bench(const Statement& q) {
  return KernelBenchmark{
      .id = q.int64(0), .name = q.text(1), .params = q.json(2),
      .backend = parse_kernel_backend(q.text(3)), .device = q.text(4),
      .threads = q.opt_int64(5), .git_revision = q.opt_text(6),
      .seconds_per_iter = q.real(7), .gb_per_s = q.opt_real(8), .gflop_per_s = q.opt_real(9),
      .created_at = q.text(10)};
}

// Runs a query and reads every row with `read`.
template <class Reader>
auto read_all(Statement& q, Reader read) {
  std::vector<decltype(read(q))> rows;
  while (q.step()) rows.push_back(read(q));
  return rows;
}

template <class Reader>
auto read_one(Statement& q, Reader read) -> std::optional<decltype(read(q))> {
  if (!q.step()) return std::nullopt;
  return read(q);
}

// --------------------------------------------------------------------------- connection

// PRAGMA statements that report their new value; returns that value as text.
std::string pragma(Db& db, std::string_view sql) {
  Statement q(db, sql);
  return q.step() ? q.text(0) : std::string();
}

void configure(Db& db, const OpenOptions& options) {
  // First, so that the WAL switch below already waits for a lock held by another process.
  pragma(db, fmt::format("PRAGMA busy_timeout = {}", options.busy_timeout.count()));
  // WAL: readers never block the writer nor it them, and a crash mid-transaction leaves only
  // uncommitted frames, which recovery discards. The mode is persistent in the file.
  if (std::string mode = pragma(db, "PRAGMA journal_mode = WAL"); mode != "wal") {
    throw Error(fmt::format("cannot switch results database to WAL (journal_mode is '{}') [db: {}]",
                            mode, db.path().string()));
  }
  // NORMAL is durable across process crashes in WAL mode; only a power loss can drop the
  // last commits, which a resumed run recomputes.
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
}

}  // namespace

// ------------------------------------------------------------------------------ helpers

std::string_view to_string(BackendKind b) {
  return b == BackendKind::native ? "native" : "openai";
}
std::string_view to_string(RunStatus s) {
  switch (s) {
    case RunStatus::running: return "running";
    case RunStatus::done: return "done";
    case RunStatus::failed: return "failed";
  }
  return "?";
}
std::string_view to_string(KernelBackend b) { return b == KernelBackend::cpu ? "cpu" : "cuda"; }

BackendKind parse_backend_kind(std::string_view s) {
  return parse_enum(s, std::array{BackendKind::native, BackendKind::openai}, "backend");
}
RunStatus parse_run_status(std::string_view s) {
  return parse_enum(s, std::array{RunStatus::running, RunStatus::done, RunStatus::failed},
                    "run status");
}
KernelBackend parse_kernel_backend(std::string_view s) {
  return parse_enum(s, std::array{KernelBackend::cpu, KernelBackend::cuda}, "kernel backend");
}

std::string config_hash(const json& config) {
  // nlohmann::json keeps object keys sorted, so equal configs dump to identical text.
  const std::string text = config.dump();
  return scout::sha256_hex(text.data(), text.size());
}

// -------------------------------------------------------------------------------- Store

Store Store::open(const std::filesystem::path& path, const OpenOptions& options) {
  Db db(path);
  configure(db, options);
  migrate(db);
  return Store(std::move(db));
}

// --- models

int64_t Store::upsert_model(const Model& m) {
  // Everything but the path is derived from the file's bytes, so a known sha256 keeps its id
  // and first_seen; the rest is refreshed (the file may have moved, the reader improved).
  Statement q(db_, R"sql(
    INSERT INTO models(path, sha256, file_size, arch, file_type, n_params, metadata)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
    ON CONFLICT(sha256) DO UPDATE SET
      path = excluded.path, file_size = excluded.file_size, arch = excluded.arch,
      file_type = excluded.file_type, n_params = excluded.n_params, metadata = excluded.metadata
    RETURNING id)sql");
  q.bind_all(m.path, m.sha256, m.file_size, m.arch, m.file_type, m.n_params,
             json_param(m.metadata));
  if (!q.step()) throw Error(fmt::format("upsert_model returned no id [db: {}]", path().string()));
  int64_t id = q.int64(0);
  q.reset();  // finish the statement so its implicit write transaction ends now
  return id;
}

std::optional<Model> Store::find_model(int64_t id) {
  Statement q(db_, fmt::format("SELECT {} FROM models WHERE id = ?1", kModelColumns));
  q.bind(1, id);
  return read_one(q, read_model);
}

std::optional<Model> Store::find_model_by_sha256(std::string_view sha256) {
  Statement q(db_, fmt::format("SELECT {} FROM models WHERE sha256 = ?1", kModelColumns));
  q.bind(1, sha256);
  return read_one(q, read_model);
}

std::vector<Model> Store::list_models() {
  Statement q(db_, fmt::format("SELECT {} FROM models ORDER BY id", kModelColumns));
  return read_all(q, read_model);
}

// --- runs

int64_t Store::begin_run(const RunSpec& s) {
  Statement q(db_, R"sql(
    INSERT INTO runs(model_id, backend, tasks, protocol, suite, seed, batch_size, config,
                     config_hash, git_revision, scout_version, host)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12))sql");
  q.bind_all(s.model_id, to_string(s.backend), json(s.tasks).dump(), s.protocol, s.suite,
             s.seed, s.batch_size, s.config.dump(), config_hash(s.config), s.git_revision,
             s.scout_version, json_param(s.host));
  q.run();
  return db_.last_insert_rowid();
}

void Store::finish_run(int64_t run_id, RunStatus status, double wall_seconds,
                       std::optional<std::string_view> error) {
  if (status == RunStatus::running) throw Error("finish_run needs status done or failed");
  Statement q(db_, R"sql(
    UPDATE runs SET status = ?2, error = ?3,
                    finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                    wall_seconds = COALESCE(wall_seconds, 0) + ?4
    WHERE id = ?1)sql");
  q.bind_all(run_id, to_string(status), error, wall_seconds).run();
  if (db_.changes() == 0) throw Error(fmt::format("finish_run: no run with id {}", run_id));
}

void Store::resume_run(int64_t run_id) {
  Statement q(db_, "UPDATE runs SET status = 'running', finished_at = NULL, error = NULL "
                   "WHERE id = ?1");
  q.bind(1, run_id).run();
  if (db_.changes() == 0) throw Error(fmt::format("resume_run: no run with id {}", run_id));
}

std::optional<Run> Store::find_run(int64_t run_id) {
  Statement q(db_, fmt::format("SELECT {} FROM runs WHERE id = ?1", kRunColumns));
  q.bind(1, run_id);
  return read_one(q, read_run);
}

std::optional<Run> Store::find_run_by_config(const json& config) {
  Statement q(db_, fmt::format(
                       "SELECT {} FROM runs WHERE config_hash = ?1 ORDER BY id DESC LIMIT 1",
                       kRunColumns));
  q.bind(1, config_hash(config));
  return read_one(q, read_run);
}

std::vector<Run> Store::list_runs() {
  Statement q(db_, fmt::format("SELECT {} FROM runs ORDER BY id DESC", kRunColumns));
  return read_all(q, read_run);
}

// --- samples

int64_t Store::insert_samples(int64_t run_id, std::span<const Sample> samples) {
  // ON CONFLICT DO NOTHING rather than INSERT OR IGNORE: OR IGNORE would also silently drop
  // rows that break NOT NULL or CHECK constraints, hiding bugs; this ignores only the resume
  // case, a sample whose key is already stored. The stored sample wins because the run's
  // metrics may already have been computed from it.
  Transaction tx(db_);
  Statement q(db_, R"sql(
    INSERT INTO samples(run_id, task, doc_id, repeat, prompt, output, answer, target, score,
                        extra, n_prompt_tokens, n_output_tokens, seconds)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
    ON CONFLICT(run_id, task, doc_id, repeat) DO NOTHING)sql");
  int64_t inserted = 0;
  for (const Sample& s : samples) {
    q.bind_all(run_id, s.task, s.doc_id, s.repeat, s.prompt, s.output, s.answer, s.target,
               s.score, json_param(s.extra), s.n_prompt_tokens, s.n_output_tokens, s.seconds);
    q.run();
    inserted += db_.changes();
    q.reset();
  }
  tx.commit();
  return inserted;
}

std::set<SampleKey> Store::completed_sample_keys(int64_t run_id, std::string_view task) {
  Statement q(db_, "SELECT doc_id, repeat FROM samples WHERE run_id = ?1 AND task = ?2");
  q.bind_all(run_id, task);
  std::set<SampleKey> keys;
  while (q.step()) keys.insert(SampleKey{q.text(0), q.int64(1)});
  return keys;
}

std::vector<Sample> Store::samples_for_run(int64_t run_id, std::optional<std::string_view> task) {
  Statement q(db_, fmt::format("SELECT {} FROM samples WHERE run_id = ?1 "
                               "AND (?2 IS NULL OR task = ?2) ORDER BY id",
                               kSampleColumns));
  q.bind_all(run_id, task);
  return read_all(q, read_sample);
}

// --- metrics

void Store::put_metrics(int64_t run_id, std::span<const Metric> metrics) {
  Transaction tx(db_);
  Statement q(db_, R"sql(
    INSERT INTO metrics(run_id, task, metric, value, std_error, ci_low, ci_high, n, details)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
    ON CONFLICT(run_id, task, metric) DO UPDATE SET
      value = excluded.value, std_error = excluded.std_error, ci_low = excluded.ci_low,
      ci_high = excluded.ci_high, n = excluded.n, details = excluded.details,
      computed_at = excluded.computed_at)sql");
  for (const Metric& m : metrics) {
    // SQLite has no NaN (it would store NULL anyway); bind NULL explicitly to say so.
    std::optional<double> value = std::isnan(m.value) ? std::nullopt : std::optional(m.value);
    q.bind_all(run_id, m.task, m.name, value, m.std_error, m.ci_low, m.ci_high, m.n,
               json_param(m.details));
    q.run();
    q.reset();
  }
  tx.commit();
}

std::vector<Metric> Store::metrics_for_run(int64_t run_id) {
  Statement q(db_, fmt::format("SELECT {} FROM metrics WHERE run_id = ?1 ORDER BY task, metric",
                               kMetricColumns));
  q.bind(1, run_id);
  return read_all(q, read_metric);
}

// --- quant comparisons

int64_t Store::insert_quant_comparison(const QuantComparison& c) {
  Statement q(db_, R"sql(
    INSERT INTO quant_comparisons(base_model_id, test_model_id, text_source, ctx, chunks,
        ppl_base, ppl_test, kld_mean, kld_stderr, kld_median, kld_p90, kld_p99, kld_max,
        same_top_p, delta_p, tokens_scored)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16))sql");
  q.bind_all(c.base_model_id, c.test_model_id, c.text_source, c.ctx, c.chunks, c.ppl_base,
             c.ppl_test, c.kld_mean, c.kld_stderr, c.kld_median, c.kld_p90, c.kld_p99,
             c.kld_max, c.same_top_p, json_param(c.delta_p), c.tokens_scored);
  q.run();
  return db_.last_insert_rowid();
}

std::vector<QuantComparison> Store::list_quant_comparisons(std::optional<int64_t> base_model_id,
                                                           std::optional<int64_t> test_model_id) {
  Statement q(db_, fmt::format("SELECT {} FROM quant_comparisons "
                               "WHERE (?1 IS NULL OR base_model_id = ?1) "
                               "AND (?2 IS NULL OR test_model_id = ?2) ORDER BY id",
                               kQuantColumns));
  q.bind_all(base_model_id, test_model_id);
  return read_all(q, read_quant);
}

// --- kernel benchmarks

int64_t Store::insert_kernel_benchmark(const KernelBenchmark& b) {
  Statement q(db_, R"sql(
    INSERT INTO kernel_benchmarks(name, params, backend, device, threads, git_revision,
                                  seconds_per_iter, gb_per_s, gflop_per_s)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9))sql");
  q.bind_all(b.name, json_param(b.params), to_string(b.backend), b.device, b.threads,
             b.git_revision, b.seconds_per_iter, b.gb_per_s, b.gflop_per_s);
  q.run();
  return db_.last_insert_rowid();
}

std::vector<KernelBenchmark> Store::list_kernel_benchmarks(std::optional<std::string_view> name) {
  Statement q(db_, fmt::format("SELECT {} FROM kernel_benchmarks "
                               "WHERE (?1 IS NULL OR name = ?1) ORDER BY id",
                               kBenchColumns));
  q.bind(1, name);
  return read_all(q, read_bench);
}

// --- request cache

void Store::put_cached_response(std::string_view request_sha256, const json& response) {
  // The newest response replaces an older one: a re-issued request was deliberately re-run.
  Statement q(db_, R"sql(
    INSERT INTO request_cache(request_sha256, response) VALUES (?1, ?2)
    ON CONFLICT(request_sha256) DO UPDATE SET
      response = excluded.response, created_at = excluded.created_at)sql");
  q.bind_all(request_sha256, response.dump()).run();
}

std::optional<json> Store::cached_response(std::string_view request_sha256) {
  Statement q(db_, "SELECT response FROM request_cache WHERE request_sha256 = ?1");
  q.bind(1, request_sha256);
  if (!q.step()) return std::nullopt;
  return q.json(0);
}

}  // namespace scout::store
