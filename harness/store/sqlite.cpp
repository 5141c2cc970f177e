#include "harness/store/sqlite.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include <utility>

#include "engine/util/error.h"

namespace scout::store {

// ---------------------------------------------------------------------------------------- Db

Db::Db(const std::filesystem::path& path) : path_(path) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    // Even a failed open returns a handle (unless out of memory) that holds the message.
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw Error(fmt::format("cannot open results database: {} [db: {}]", msg, path.string()));
  }
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() {
  // close_v2 defers the close until any forgotten statements are finalized, so it never fails.
  if (db_) sqlite3_close_v2(db_);
}

Db::Db(Db&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      tx_depth_(std::exchange(other.tx_depth_, 0)) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    tx_depth_ = std::exchange(other.tx_depth_, 0);
  }
  return *this;
}

void Db::exec(std::string_view sql) {
  std::string text(sql);  // sqlite3_exec needs NUL termination
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw Error(fmt::format("sqlite exec failed: {} ({}) in `{}` [db: {}]", msg,
                            sqlite3_errstr(rc), sql.substr(0, 200), path_.string()));
  }
}

void Db::fail(std::string_view what, int rc) const {
  throw Error(fmt::format("{}: {} ({}) [db: {}]", what, sqlite3_errmsg(db_), sqlite3_errstr(rc),
                          path_.string()));
}

int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int64_t Db::changes() const { return sqlite3_changes64(db_); }
bool Db::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

std::optional<std::string> json_param(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  // Model output cut mid-character is not valid UTF-8: store U+FFFD there rather than lose
  // the sample (the raw output itself goes to a TEXT column untouched).
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// --------------------------------------------------------------------------------- Statement

Statement::Statement(Db& db, std::string_view sql) : db_(&db) {
  int rc = sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_,
                              nullptr);
  if (rc != SQLITE_OK) db.fail(fmt::format("cannot prepare `{}`", sql.substr(0, 200)), rc);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::check_bind(int rc, int index) {
  if (rc != SQLITE_OK) db_->fail(fmt::format("cannot bind parameter {}", index), rc);
}

Statement& Statement::bind(int index, std::nullptr_t) {
  check_bind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies the bytes, so temporaries are safe to bind.
  check_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8),
             index);
  return *this;
}

Statement& Statement::bind_int64(int index, int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind_double(int index, double value) {
  check_bind(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail(fmt::format("sqlite step failed in `{}`", std::string_view(sqlite3_sql(stmt_)).substr(0, 200)),
            rc);
}

void Statement::run() {
  if (step()) {
    throw Error(fmt::format("statement unexpectedly returned rows: `{}` [db: {}]",
                            sqlite3_sql(stmt_), db_->path().string()));
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);  // its return code repeats the last step's error, already reported
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::real(int col) const { return sqlite3_column_double(stmt_, col); }

std::string Statement::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  int n = sqlite3_column_bytes(stmt_, col);  // after column_text: the byte count of that text
  return p ? std::string(p, static_cast<size_t>(n)) : std::string();
}

nlohmann::json Statement::json(int col) const {
  if (is_null(col)) return nullptr;
  return nlohmann::json::parse(text(col));
}

std::optional<int64_t> Statement::opt_int64(int col) const {
  return is_null(col) ? std::nullopt : std::optional(int64(col));
}
std::optional<double> Statement::opt_real(int col) const {
  return is_null(col) ? std::nullopt : std::optional(real(col));
}
std::optional<std::string> Statement::opt_text(int col) const {
  return is_null(col) ? std::nullopt : std::optional(text(col));
}

// ------------------------------------------------------------------------------- Transaction

namespace {
// Savepoint names are generated from the nesting depth, never from user data.
std::string savepoint_name(int depth) { return fmt::format("scout_sp_{}", depth); }
}  // namespace

Transaction::Transaction(Db& db) : db_(db), depth_(db.tx_depth_ + 1) {
  if (depth_ == 1) {
    db_.exec("BEGIN IMMEDIATE");
  } else {
    db_.exec("SAVEPOINT " + savepoint_name(depth_));
  }
  db_.tx_depth_ = depth_;
}

Transaction::~Transaction() {
  if (open_) rollback();
}

void Transaction::commit() {
  if (!open_) throw Error("transaction already finished");
  if (db_.tx_depth_ != depth_) throw Error("inner transaction still open at commit");
  db_.exec(depth_ == 1 ? std::string("COMMIT") : "RELEASE " + savepoint_name(depth_));
  open_ = false;
  db_.tx_depth_ = depth_ - 1;
}

void Transaction::rollback() noexcept {
  open_ = false;
  db_.tx_depth_ = depth_ - 1;
  // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL); then there is
  // nothing left to undo and ROLLBACK would only report "no transaction is active".
  if (!db_.in_transaction()) return;
  std::string sql = depth_ == 1 ? std::string("ROLLBACK")
                                : fmt::format("ROLLBACK TO {0}; RELEASE {0}", savepoint_name(depth_));
  sqlite3_exec(db_.handle(), sql.c_str(), nullptr, nullptr, nullptr);
}

}  // namespace scout::store
