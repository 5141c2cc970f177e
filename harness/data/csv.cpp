#include "harness/data/csv.h"

#include <fmt/format.h>

#include "engine/util/error.h"

namespace scout::harness {

std::vector<std::vector<std::string>> parse_csv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  size_t i = 0;
  auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_row = [&] {
    end_field();
    rows.push_back(std::move(row));
    row.clear();
  };
  while (i < text.size()) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
      ++i;
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = field_started = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      end_row();
      ++i;
    } else if (c == '\n') {
      end_row();
    } else {
      field += c;
      field_started = true;
    }
    ++i;
  }
  if (quoted) throw Error("CSV: unterminated quoted field at end of input");
  if (field_started || !row.empty()) end_row();
  return rows;
}

nlohmann::json csv_records(std::string_view text) {
  const auto rows = parse_csv(text);
  nlohmann::json out = nlohmann::json::array();
  if (rows.empty()) return out;
  const auto& header = rows.front();
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() > header.size())
      throw Error(fmt::format("CSV: row {} has {} fields, the header {}", r + 1, rows[r].size(), header.size()));
    nlohmann::json rec = nlohmann::json::object();
    for (size_t c = 0; c < rows[r].size(); ++c) rec[header[c]] = rows[r][c];
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace scout::harness
