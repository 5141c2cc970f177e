#pragma once
// A thin RAII layer over the SQLite C API: a connection (Db), a prepared statement (Statement)
// and a transaction (Transaction). Values reach SQL only through bound parameters; the only
// SQL text ever executed verbatim is fixed DDL, pragmas and transaction control.
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

struct sqlite3;
struct sqlite3_stmt;

namespace scout::store {

// One open connection. Not shared between threads: open one per thread (or process).
class Db {
 public:
  // Opens (creating if missing) the database file. Throws scout::Error naming the path.
  explicit Db(const std::filesystem::path& path);
  ~Db();
  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* handle() const { return db_; }
  const std::filesystem::path& path() const { return path_; }

  // Runs SQL that carries no values (DDL, pragmas, BEGIN/COMMIT); may hold several statements.
  void exec(std::string_view sql);
  // Throws scout::Error: "<what>: <sqlite message> (<code name>) [db: <path>]".
  [[noreturn]] void fail(std::string_view what, int rc) const;

  int64_t last_insert_rowid() const;
  int64_t changes() const;  // rows changed by the last INSERT/UPDATE/DELETE
  bool in_transaction() const;

 private:
  friend class Transaction;
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  int tx_depth_ = 0;  // open Transaction objects; >0 means nested ones use savepoints
};

// Binds a JSON value as text: a JSON null becomes SQL NULL, anything else its compact dump.
std::optional<std::string> json_param(const nlohmann::json& value);

// One prepared statement. Parameters are 1-based, columns 0-based (as in SQLite).
class Statement {
 public:
  Statement(Db& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::nullptr_t);
  Statement& bind(int index, std::string_view value);
  template <std::integral T>
  Statement& bind(int index, T value) { return bind_int64(index, static_cast<int64_t>(value)); }
  template <std::floating_point T>
  Statement& bind(int index, T value) { return bind_double(index, static_cast<double>(value)); }
  template <class T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind(index, nullptr);
  }
  // Binds the arguments to parameters 1..N in order.
  template <class... Args>
  Statement& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  bool step();   // true while a result row is ready; false when done
  void run();    // steps a statement that must not return rows
  void reset();  // rewinds and clears bindings so the statement can be reused

  bool is_null(int col) const;
  int64_t int64(int col) const;
  double real(int col) const;
  std::string text(int col) const;  // exact bytes, embedded NULs included
  nlohmann::json json(int col) const;  // SQL NULL -> JSON null
  std::optional<int64_t> opt_int64(int col) const;
  std::optional<double> opt_real(int col) const;
  std::optional<std::string> opt_text(int col) const;

 private:
  Statement& bind_int64(int index, int64_t value);
  Statement& bind_double(int index, double value);
  void check_bind(int rc, int index);

  Db* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// RAII transaction: changes become visible only through commit(); destroying an uncommitted
// Transaction (e.g. while an exception unwinds) rolls it back. Commit is explicit because a
// failing COMMIT must be able to throw, which a destructor cannot.
// The outermost transaction is BEGIN IMMEDIATE (takes the write lock up front, so it never hits
// an unresolvable SQLITE_BUSY when upgrading from read to write under WAL); nested ones are
// savepoints, so store calls that open their own transaction compose inside a caller's.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  void rollback() noexcept;

  Db& db_;
  int depth_;  // 1 for the outermost transaction
  bool open_ = true;
};

}  // namespace scout::store
