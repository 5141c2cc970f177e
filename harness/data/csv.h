#pragma once
// RFC 4180 CSV: comma-separated, fields optionally double-quoted, "" inside quotes is a quote,
// quoted fields may hold commas and newlines; CRLF or LF line ends. The GPQA files need all of it.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace scout::harness {

// All rows, the header included. Throws scout::Error on an unterminated quoted field.
std::vector<std::vector<std::string>> parse_csv(std::string_view text);

// Rows 2..n as objects keyed by the header row. Throws when a row has more fields than the
// header; a shorter row leaves the missing columns out.
nlohmann::json csv_records(std::string_view text);

}  // namespace scout::harness
