#pragma once
// The request cache (table request_cache, docs/STORE.md): HTTP responses keyed by the SHA-256
// of the request, so that rerunning an evaluation against a server costs no requests.
//
// The key covers the base URL, the endpoint path and the JSON body (model, prompt, sampling
// settings, seed...), dumped compactly with sorted keys, and nothing else: in particular not
// the API key, which never reaches the database. Only successful responses are stored.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "harness/store/sqlite.h"

namespace scout::store {

class RequestCache {
 public:
  explicit RequestCache(Db& db) : db_(db) {}

  // Lowercase hex SHA-256 of "<base_url>\n<path>\n<body as compact JSON>".
  static std::string key(std::string_view base_url, std::string_view path, const nlohmann::json& body);

  std::optional<nlohmann::json> get(const std::string& key);
  // Stores (or replaces) a response; throws scout::Error naming the database on failure.
  void put(const std::string& key, const nlohmann::json& response);
  int64_t size();

 private:
  Db& db_;
};

}  // namespace scout::store
