#include "harness/store/schema.h"

#include <fmt/format.h>

#include <array>

#include "engine/util/error.h"

namespace scout::store {
namespace {

// Conventions for every table (see docs/STORE.md):
// - STRICT tables, so a wrongly typed value is an error instead of a silent conversion;
// - timestamps are UTC ISO-8601 text with milliseconds, set by SQLite (sortable, readable);
// - JSON columns are TEXT checked with json_valid; SQL NULL where a value may be absent
//   (spelled `x IS NULL OR json_valid(x)`: before SQLite 3.45 json_valid(NULL) is 0, not NULL).
constexpr std::string_view kV1Initial = R"sql(
CREATE TABLE models (
  id          INTEGER PRIMARY KEY,
  path        TEXT    NOT NULL,
  sha256      TEXT    NOT NULL UNIQUE
                      CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
  file_size   INTEGER NOT NULL CHECK (file_size >= 0),
  arch        TEXT    NOT NULL,
  file_type   TEXT    NOT NULL,
  n_params    INTEGER CHECK (n_params >= 0),
  metadata    TEXT    CHECK (metadata IS NULL OR json_valid(metadata)),
  first_seen  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  model_id      INTEGER REFERENCES models(id),
  backend       TEXT    NOT NULL CHECK (backend IN ('native', 'openai')),
  tasks         TEXT    NOT NULL CHECK (json_valid(tasks) AND json_type(tasks) = 'array'),
  protocol      TEXT    NOT NULL,
  suite         TEXT,
  seed          INTEGER NOT NULL,
  batch_size    INTEGER NOT NULL CHECK (batch_size > 0),
  config        TEXT    NOT NULL CHECK (json_valid(config)),
  config_hash   TEXT    NOT NULL CHECK (length(config_hash) = 64),
  git_revision  TEXT,
  scout_version TEXT    NOT NULL,
  host          TEXT    CHECK (host IS NULL OR json_valid(host)),
  started_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  finished_at   TEXT,
  status        TEXT    NOT NULL DEFAULT 'running'
                        CHECK (status IN ('running', 'done', 'failed')),
  wall_seconds  REAL    CHECK (wall_seconds >= 0),
  error         TEXT,
  CHECK ((status = 'running') = (finished_at IS NULL))
) STRICT;
CREATE INDEX runs_by_config_hash ON runs(config_hash);
CREATE INDEX runs_by_model ON runs(model_id);

CREATE TABLE samples (
  id              INTEGER PRIMARY KEY,
  run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  task            TEXT    NOT NULL,
  doc_id          TEXT    NOT NULL,
  repeat          INTEGER NOT NULL CHECK (repeat >= 0),
  prompt          TEXT    NOT NULL,
  output          TEXT    NOT NULL,
  answer          TEXT,
  target          TEXT,
  score           REAL,
  extra           TEXT    CHECK (extra IS NULL OR json_valid(extra)),
  n_prompt_tokens INTEGER CHECK (n_prompt_tokens >= 0),
  n_output_tokens INTEGER CHECK (n_output_tokens >= 0),
  seconds         REAL    CHECK (seconds >= 0),
  created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (run_id, task, doc_id, repeat)
) STRICT;

CREATE TABLE metrics (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  task        TEXT    NOT NULL,
  metric      TEXT    NOT NULL,
  value       REAL,
  std_error   REAL,
  ci_low      REAL,
  ci_high     REAL,
  n           INTEGER NOT NULL CHECK (n >= 0),
  details     TEXT    CHECK (details IS NULL OR json_valid(details)),
  computed_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (run_id, task, metric)
) STRICT;

CREATE TABLE quant_comparisons (
  id            INTEGER PRIMARY KEY,
  base_model_id INTEGER NOT NULL REFERENCES models(id),
  test_model_id INTEGER NOT NULL REFERENCES models(id),
  text_source   TEXT    NOT NULL,
  ctx           INTEGER NOT NULL CHECK (ctx > 0),
  chunks        INTEGER NOT NULL CHECK (chunks > 0),
  ppl_base      REAL    NOT NULL,
  ppl_test      REAL    NOT NULL,
  kld_mean      REAL    NOT NULL,
  kld_stderr    REAL,
  kld_median    REAL    NOT NULL,
  kld_p90       REAL    NOT NULL,
  kld_p99       REAL    NOT NULL,
  kld_max       REAL    NOT NULL,
  same_top_p    REAL    NOT NULL CHECK (same_top_p BETWEEN 0 AND 1),
  delta_p       TEXT    CHECK (delta_p IS NULL OR json_valid(delta_p)),
  tokens_scored INTEGER NOT NULL CHECK (tokens_scored >= 0),
  created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX quant_comparisons_by_models ON quant_comparisons(base_model_id, test_model_id);

CREATE TABLE kernel_benchmarks (
  id               INTEGER PRIMARY KEY,
  name             TEXT    NOT NULL,
  params           TEXT    NOT NULL CHECK (json_valid(params)),
  backend          TEXT    NOT NULL CHECK (backend IN ('cpu', 'cuda')),
  device           TEXT    NOT NULL,
  threads          INTEGER CHECK (threads > 0),
  git_revision     TEXT,
  seconds_per_iter REAL    NOT NULL CHECK (seconds_per_iter > 0),
  gb_per_s         REAL,
  gflop_per_s      REAL,
  created_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX kernel_benchmarks_by_name ON kernel_benchmarks(name, backend);

CREATE TABLE request_cache (
  request_sha256 TEXT NOT NULL PRIMARY KEY
                 CHECK (length(request_sha256) = 64 AND request_sha256 NOT GLOB '*[^0-9a-f]*'),
  response       TEXT NOT NULL CHECK (json_valid(response)),
  created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT, WITHOUT ROWID;
)sql";

constexpr std::array kMigrations{
    Migration{1, "initial schema", kV1Initial},
};

constexpr std::string_view kCreateVersionTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (
  version    INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
)sql";

// A gap or reordering in the list would apply scripts out of order: a programming error.
void check_ordered(std::span<const Migration> known) {
  for (size_t i = 0; i < known.size(); ++i) {
    if (known[i].version != static_cast<int>(i) + 1) {
      throw Error(fmt::format("migration list is not 1..N in order: entry {} has version {}", i,
                              known[i].version));
    }
  }
}

void reject_newer(Db& db, int current, int latest) {
  if (current > latest) {
    throw Error(fmt::format(
        "results database {} has schema version {}, but this scout-eval knows only up to "
        "version {}; it was written by a newer scout-eval (upgrade, or use another database)",
        db.path().string(), current, latest));
  }
}

void apply_one(Db& db, const Migration& m) {
  Transaction tx(db);
  // Re-read under the write lock: another process may have applied this step meanwhile.
  if (current_schema_version(db) >= m.version) return;
  try {
    db.exec(m.sql);
  } catch (const Error& e) {
    throw Error(fmt::format("schema migration {} ({}) failed: {}", m.version, m.name, e.what()));
  }
  Statement(db, "INSERT INTO schema_version(version, name) VALUES (?1, ?2)")
      .bind_all(m.version, m.name)
      .run();
  tx.commit();
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }
int latest_schema_version() { return static_cast<int>(kMigrations.size()); }

int current_schema_version(Db& db) {
  Statement exists(db,
                   "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'");
  if (!exists.step()) return 0;
  Statement q(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
  q.step();
  return static_cast<int>(q.int64(0));
}

void migrate(Db& db, std::span<const Migration> known) {
  check_ordered(known);
  int latest = static_cast<int>(known.size());
  int start = current_schema_version(db);
  // Check before writing anything, so a newer database is left exactly as it was.
  reject_newer(db, start, latest);
  if (start == latest) return;  // re-open: nothing to write
  {
    Transaction tx(db);
    db.exec(kCreateVersionTable);
    tx.commit();
  }
  for (const Migration& m : known) {
    if (m.version > start) apply_one(db, m);
  }
  // A newer scout-eval may have migrated past us between the checks above.
  reject_newer(db, current_schema_version(db), latest);
}

}  // namespace scout::store
