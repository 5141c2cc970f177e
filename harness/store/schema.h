#pragma once
// Schema migrations for the results store: an ordered list of SQL scripts. Script i brings the
// database from version i-1 to version i; each runs once, inside its own transaction, and is
// recorded in the schema_version table. Released migrations are never edited: a change to the
// schema is a new script appended to the list (see docs/STORE.md).
#include <span>
#include <string_view>

#include "harness/store/sqlite.h"

namespace scout::store {

struct Migration {
  int version;            // 1, 2, 3, ... without gaps
  std::string_view name;  // short description, stored beside the version
  std::string_view sql;   // one or more statements; no bound values
};

// The migrations this build knows, in order.
std::span<const Migration> migrations();
int latest_schema_version();

// Highest version recorded in schema_version; 0 for a database never migrated.
int current_schema_version(Db& db);

// Applies every migration newer than the database's version. Throws scout::Error when the
// database is newer than `known` (written by a later scout-eval) or a script fails; a failed
// script leaves the database at the previous version. Safe against another process migrating
// the same file at the same time: each step re-reads the version under the write lock.
void migrate(Db& db, std::span<const Migration> known = migrations());

}  // namespace scout::store
