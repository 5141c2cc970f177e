#include "harness/store/request_cache.h"

#include "engine/util/sha256.h"

namespace scout::store {

std::string RequestCache::key(std::string_view base_url, std::string_view path, const nlohmann::json& body) {
  // nlohmann::json objects keep their keys sorted, so equal bodies dump to equal bytes.
  const std::string text = std::string(base_url) + "\n" + std::string(path) + "\n" +
                           body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return sha256_hex(text.data(), text.size());
}

std::optional<nlohmann::json> RequestCache::get(const std::string& key) {
  Statement st(db_, "SELECT response FROM request_cache WHERE request_sha256 = ?");
  st.bind_all(key);
  if (!st.step()) return std::nullopt;
  return st.json(0);
}

void RequestCache::put(const std::string& key, const nlohmann::json& response) {
  Statement st(db_, "INSERT OR REPLACE INTO request_cache (request_sha256, response) VALUES (?, ?)");
  st.bind_all(key, response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  st.run();
}

int64_t RequestCache::size() {
  Statement st(db_, "SELECT count(*) FROM request_cache");
  st.step();
  return st.int64(0);
}

}  // namespace scout::store
