#pragma once
// Reading evaluation data in its original formats from a data directory (default
// ../shared/datasets, overridable with --data-dir): JSON (a list, or an object holding the
// list under "examples", "data" or "rows"), JSON Lines, CSV, and any of these inside a zip,
// encrypted entries included (GPQA's published password). Zip entries are read into memory
// only; nothing is ever extracted to disk.
//
// Checksums: when a file sits under a folder whose SOURCE.md has a table row
// "| path | bytes | sha256 |" for it, its SHA-256 is checked on first read and a mismatch is
// an error. Files that no SOURCE.md lists (a user's own Hugging Face export) are read
// unverified; provenance() records which was which.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace scout::harness {

// The SHA-256 table of a SOURCE.md: relative path (backticks stripped) -> lowercase hex.
std::map<std::string, std::string> parse_source_checksums(std::string_view source_md);

// Entry names of a zip file, in archive order.
std::vector<std::string> zip_entries(const std::filesystem::path& zip);
// One entry's bytes, decrypted with `password` when given. Throws scout::Error naming the
// archive and entry (a wrong password is reported as such).
std::string read_zip_entry(const std::filesystem::path& zip, std::string_view entry, std::string_view password = "");

// Parses records by the name's extension (.json, .jsonl, .csv). Throws on anything else.
nlohmann::json parse_records(std::string_view bytes, std::string_view name);

class DataDir {
 public:
  explicit DataDir(std::filesystem::path root, bool verify_checksums = true);

  // The built-in default: $SCOUT_DATA_DIR, else the datasets folder beside the source tree.
  static std::filesystem::path default_root();

  const std::filesystem::path& root() const { return root_; }
  bool exists(const std::filesystem::path& relative) const;
  // The first candidate (relative to the root) that exists.
  std::optional<std::filesystem::path> first_existing(const std::vector<std::string>& candidates) const;

  // Whole file, checksum-verified when listed.
  std::string read(const std::filesystem::path& relative);
  // A zip entry: the archive itself is checksum-verified when listed.
  std::string read_zip(const std::filesystem::path& relative_zip, std::string_view entry, std::string_view password = "");
  // read()/read_zip() + parse_records(). `entry` empty: the file itself.
  nlohmann::json records(const std::filesystem::path& relative, std::string_view entry = "",
                         std::string_view password = "");

  // [{"file", "sha256", "verified": true|false, "source": "path/SOURCE.md"|null}], one per file read.
  const nlohmann::json& provenance() const { return provenance_; }

 private:
  void verify(const std::filesystem::path& relative, std::string_view bytes);

  std::filesystem::path root_;
  bool verify_;
  nlohmann::json provenance_ = nlohmann::json::array();
  std::map<std::string, bool> seen_;
};

}  // namespace scout::harness
