#include "harness/data/dataset_files.h"

#include <fmt/format.h>
#include <zip.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "engine/util/error.h"
#include "engine/util/text.h"
#include "engine/util/sha256.h"
#include "harness/data/csv.h"

#ifndef SCOUT_DEFAULT_DATA_DIR
#define SCOUT_DEFAULT_DATA_DIR "datasets"
#endif

namespace scout::harness {
namespace fs = std::filesystem;
namespace {

std::string strip_backticks(std::string s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '`' && s.back() == '`') s = s.substr(1, s.size() - 2);
  return s;
}

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string read_whole_file(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path.string() + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

ZipPtr open_zip(const fs::path& path) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (!z) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string msg = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    throw Error(fmt::format("{}: cannot open zip: {}", path.string(), msg));
  }
  return ZipPtr(z);
}

std::string ends_with_ext(std::string_view name) {
  const auto dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string() : lower(std::string(name.substr(dot)));
}

// Strips a UTF-8 byte-order mark, which some CSV exports carry.
std::string_view without_bom(std::string_view s) {
  return s.starts_with("\xEF\xBB\xBF") ? s.substr(3) : s;
}

}  // namespace

std::map<std::string, std::string> parse_source_checksums(std::string_view source_md) {
  std::map<std::string, std::string> out;
  std::istringstream in{std::string(source_md)};
  std::string line;
  while (std::getline(in, line)) {
    const std::string t = trim(line);
    if (!t.starts_with('|')) continue;
    std::vector<std::string> cells;
    size_t pos = 1;
    while (pos < t.size()) {
      const size_t bar = t.find('|', pos);
      if (bar == std::string::npos) break;
      cells.push_back(strip_backticks(t.substr(pos, bar - pos)));
      pos = bar + 1;
    }
    if (cells.size() < 2) continue;
    for (size_t c = 1; c < cells.size(); ++c)
      if (is_sha256_hex(cells[c])) out[cells[0]] = lower(cells[c]);
  }
  return out;
}

std::vector<std::string> zip_entries(const fs::path& zip) {
  auto z = open_zip(zip);
  std::vector<std::string> names;
  const zip_int64_t n = zip_get_num_entries(z.get(), 0);
  for (zip_int64_t i = 0; i < n; ++i)
    if (const char* name = zip_get_name(z.get(), zip_uint64_t(i), 0)) names.emplace_back(name);
  return names;
}

std::string read_zip_entry(const fs::path& zip, std::string_view entry, std::string_view password) {
  auto z = open_zip(zip);
  const std::string name(entry);
  const zip_int64_t idx = zip_name_locate(z.get(), name.c_str(), 0);
  if (idx < 0) throw Error(fmt::format("{}: no entry `{}`", zip.string(), name));
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z.get(), zip_uint64_t(idx), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
    throw Error(fmt::format("{}: cannot stat `{}`", zip.string(), name));
  const std::string pw(password);
  zip_file_t* f = pw.empty() ? zip_fopen_index(z.get(), zip_uint64_t(idx), 0)
                             : zip_fopen_index_encrypted(z.get(), zip_uint64_t(idx), 0, pw.c_str());
  if (!f) {
    const int code = zip_error_code_zip(zip_get_error(z.get()));
    if (code == ZIP_ER_NOPASSWD) throw Error(fmt::format("{}: `{}` is encrypted and no password was given", zip.string(), name));
    if (code == ZIP_ER_WRONGPASSWD) throw Error(fmt::format("{}: wrong password for `{}`", zip.string(), name));
    throw Error(fmt::format("{}: cannot open `{}`: {}", zip.string(), name, zip_strerror(z.get())));
  }
  std::string bytes(size_t(st.size), '\0');
  const zip_int64_t got = zip_fread(f, bytes.data(), st.size);
  const bool read_ok = got == zip_int64_t(st.size);
  std::string err = read_ok ? "" : zip_file_strerror(f);
  // A wrong traditional-PKWARE password often passes the 1-byte header check and only shows
  // as a CRC or inflate error here.
  if (zip_fclose(f) != 0 && read_ok) err = "checksum mismatch after decryption (wrong password?)";
  if (!read_ok || !err.empty())
    throw Error(fmt::format("{}: reading `{}` failed: {}", zip.string(), name, err.empty() ? "short read" : err));
  return bytes;
}

nlohmann::json parse_records(std::string_view bytes, std::string_view name) {
  const std::string ext = ends_with_ext(name);
  const std::string_view text = without_bom(bytes);
  try {
    if (ext == ".csv") return csv_records(text);
    if (ext == ".jsonl") {
      nlohmann::json out = nlohmann::json::array();
      size_t pos = 0, line_no = 0;
      while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        ++line_no;
        const std::string line = trim(text.substr(pos, nl - pos));
        pos = nl + 1;
        if (line.empty()) continue;
        try {
          out.push_back(nlohmann::json::parse(line));
        } catch (const nlohmann::json::exception& e) {
          throw Error(fmt::format("line {}: {}", line_no, e.what()));
        }
      }
      return out;
    }
    if (ext == ".json") {
      auto j = nlohmann::json::parse(text);
      if (j.is_array()) return j;
      for (const char* key : {"examples", "data", "rows"})
        if (j.is_object() && j.contains(key) && j[key].is_array()) return j[key];
      throw Error("expected a JSON list or an object with an \"examples\", \"data\" or \"rows\" list");
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: {}", name, e.what()));
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", name, e.what()));
  }
  throw Error(fmt::format("{}: unknown record format (expected .json, .jsonl or .csv)", name));
}

DataDir::DataDir(fs::path root, bool verify_checksums) : root_(std::move(root)), verify_(verify_checksums) {}

fs::path DataDir::default_root() {
  if (const char* env = std::getenv("SCOUT_DATA_DIR"); env && *env) return env;
  return SCOUT_DEFAULT_DATA_DIR;
}

bool DataDir::exists(const fs::path& relative) const { return fs::is_regular_file(root_ / relative); }

std::optional<fs::path> DataDir::first_existing(const std::vector<std::string>& candidates) const {
  for (const auto& c : candidates)
    if (exists(c)) return fs::path(c);
  return std::nullopt;
}

void DataDir::verify(const fs::path& relative, std::string_view bytes) {
  const std::string key = relative.generic_string();
  if (seen_.count(key)) return;
  const std::string digest = sha256_hex(bytes.data(), bytes.size());
  nlohmann::json record = {{"file", key}, {"sha256", digest}, {"verified", false}, {"source", nullptr}};
  // The nearest SOURCE.md above the file (within the root) that lists it decides.
  for (fs::path dir = relative.parent_path();; dir = dir.parent_path()) {
    const fs::path source = root_ / dir / "SOURCE.md";
    if (fs::is_regular_file(source)) {
      const auto sums = parse_source_checksums(read_whole_file(source));
      const std::string listed_as = fs::relative(relative, dir).generic_string();
      if (auto it = sums.find(listed_as); it != sums.end()) {
        if (verify_ && it->second != digest)
          throw Error(fmt::format("{}: SHA-256 {} does not match {} in {} (a changed or corrupt copy; "
                                  "--no-verify skips this check)",
                                  (root_ / relative).string(), digest, it->second, source.string()));
        record["verified"] = it->second == digest;
        record["source"] = (dir / "SOURCE.md").generic_string();
        break;
      }
    }
    if (dir.empty() || dir == dir.parent_path()) break;
  }
  seen_[key] = record["verified"].get<bool>();
  provenance_.push_back(std::move(record));
}

std::string DataDir::read(const fs::path& relative) {
  std::string bytes = read_whole_file(root_ / relative);
  verify(relative, bytes);
  return bytes;
}

std::string DataDir::read_zip(const fs::path& relative_zip, std::string_view entry, std::string_view password) {
  verify(relative_zip, read_whole_file(root_ / relative_zip));
  return read_zip_entry(root_ / relative_zip, entry, password);
}

nlohmann::json DataDir::records(const fs::path& relative, std::string_view entry, std::string_view password) {
  if (entry.empty()) return parse_records(read(relative), relative.filename().string());
  return parse_records(read_zip(relative, entry, password), entry);
}

}  // namespace scout::harness
