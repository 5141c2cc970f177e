#include "tasks/ifeval/ifeval.h"

#include <fstream>
#include <set>
#include <unordered_map>

#include <tbb/parallel_for.h>

namespace scout::tasks::ifeval {
namespace {

using nlohmann::json;

const json& field(const json& row, const char* name) {
  auto it = row.find(name);
  if (it == row.end()) throw IfevalError(std::string("row has no '") + name + "'");
  return *it;
}

// Strict check of one text, as test_instruction_following_* do: blank text never follows.
bool follows(const Instruction& instruction, py::TextView text) {
  return !py::strip(text).empty() && instruction.check(text);
}

// "\n".join(lines[from:to]).strip(), for Python slice bounds already made non-negative.
py::Text join_lines(const std::vector<py::TextView>& lines, std::size_t from, std::size_t to) {
  if (from >= to) return {};
  std::vector<py::TextView> part(lines.begin() + static_cast<std::ptrdiff_t>(from),
                                 lines.begin() + static_cast<std::ptrdiff_t>(to));
  return py::Text(py::strip(py::join(part, U"\n")));
}

// test_instruction_following_loose's eight responses, in its order.
std::vector<py::Text> loose_texts(py::TextView response) {
  std::vector<py::TextView> lines = py::split(response, U"\n");  // never empty
  py::Text remove_first = join_lines(lines, 1, lines.size());
  py::Text remove_last = join_lines(lines, 0, lines.size() - 1);
  py::Text remove_both = join_lines(lines, 1, lines.size() - 1);
  auto no_stars = [](py::TextView t) { return py::replace_all(t, U"*", U""); };
  return {py::Text(response), no_stars(response), remove_first, remove_last, remove_both,
          no_stars(remove_first), no_stars(remove_last), no_stars(remove_both)};
}

double mean(std::size_t hits, std::size_t n) { return n ? static_cast<double>(hits) / static_cast<double>(n) : 0.0; }

json verdict_json(const RowVerdict& v) {
  json instructions = json::array();
  for (const InstructionVerdict& i : v.instructions)
    instructions.push_back({{"id", i.id}, {"strict", i.strict}, {"loose", i.loose}});
  return {{"doc_id", v.key}, {"prompt_strict", v.prompt_strict}, {"prompt_loose", v.prompt_loose},
          {"instructions", std::move(instructions)}};
}

}  // namespace

Row parse_row(const json& row) {
  if (!row.is_object()) throw IfevalError("row is not a JSON object");
  Row out;
  const json& key = field(row, "key");
  if (!key.is_number_integer()) throw IfevalError("'key' must be an integer");
  out.key = key.get<std::int64_t>();
  const json& prompt = field(row, "prompt");
  if (!prompt.is_string()) throw IfevalError("'prompt' must be a string");
  out.prompt = prompt.get<std::string>();
  const json& ids = field(row, "instruction_id_list");
  const json& kwargs = field(row, "kwargs");
  if (!ids.is_array() || !kwargs.is_array() || ids.size() != kwargs.size())
    throw IfevalError("'instruction_id_list' and 'kwargs' must be lists of equal length");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!ids[i].is_string()) throw IfevalError("instruction ids must be strings");
    std::string id = ids[i].get<std::string>();
    out.instructions.push_back({id, kwargs[i], make_checker(id, kwargs[i])});
  }
  return out;
}

std::vector<Row> load_rows(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw IfevalError("cannot open " + path.string());
  std::vector<Row> rows;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      rows.push_back(parse_row(json::parse(line)));
    } catch (const std::exception& e) {
      throw IfevalError(path.string() + ":" + std::to_string(line_no) + ": " + e.what());
    }
  }
  return rows;
}

std::vector<std::string> loose_variants(std::string_view response) {
  std::vector<std::string> out;
  for (const py::Text& t : loose_texts(py::decode_utf8(response))) out.push_back(py::encode_utf8(t));
  return out;
}

RowVerdict evaluate(const Row& row, std::string_view response) {
  py::Text text = py::decode_utf8(response);
  std::vector<py::Text> variants = loose_texts(text);
  RowVerdict verdict;
  verdict.key = row.key;
  verdict.prompt_strict = verdict.prompt_loose = true;
  for (const Instruction& instruction : row.instructions) {
    InstructionVerdict v{instruction.id, follows(instruction, text), false};
    v.loose = v.strict;  // the first loose variant is the response itself
    for (std::size_t i = 1; i < variants.size() && !v.loose; ++i) v.loose = follows(instruction, variants[i]);
    verdict.prompt_strict = verdict.prompt_strict && v.strict;
    verdict.prompt_loose = verdict.prompt_loose && v.loose;
    verdict.instructions.push_back(std::move(v));
  }
  return verdict;
}

Metrics aggregate(const std::vector<RowVerdict>& verdicts) {
  Metrics m;
  std::size_t prompt_strict = 0, prompt_loose = 0, inst_strict = 0, inst_loose = 0;
  std::map<std::string, std::pair<std::size_t, std::size_t>> hits;  // id -> (strict, loose)
  for (const RowVerdict& v : verdicts) {
    ++m.n_prompts;
    prompt_strict += v.prompt_strict;
    prompt_loose += v.prompt_loose;
    for (const InstructionVerdict& i : v.instructions) {
      ++m.n_instructions;
      inst_strict += i.strict;
      inst_loose += i.loose;
      ++m.by_instruction[i.id].n;
      hits[i.id].first += i.strict;
      hits[i.id].second += i.loose;
    }
  }
  m.prompt_level_strict_acc = mean(prompt_strict, m.n_prompts);
  m.prompt_level_loose_acc = mean(prompt_loose, m.n_prompts);
  m.inst_level_strict_acc = mean(inst_strict, m.n_instructions);
  m.inst_level_loose_acc = mean(inst_loose, m.n_instructions);
  m.leaderboard_score = (m.prompt_level_strict_acc + m.inst_level_strict_acc) / 2.0;
  for (auto& [id, stats] : m.by_instruction) {
    stats.strict_acc = mean(hits[id].first, stats.n);
    stats.loose_acc = mean(hits[id].second, stats.n);
  }
  return m;
}

json score_predictions(const std::vector<Row>& rows, std::istream& predictions) {
  std::unordered_map<std::int64_t, std::size_t> index_of;
  for (std::size_t i = 0; i < rows.size(); ++i) index_of.emplace(rows[i].key, i);

  std::vector<std::pair<std::size_t, std::string>> work;  // (row index, response)
  std::set<std::int64_t> seen;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(predictions, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto where = [&] { return "predictions line " + std::to_string(line_no) + ": "; };
    json p = json::parse(line, nullptr, false);
    if (p.is_discarded() || !p.is_object()) throw IfevalError(where() + "not a JSON object");
    auto doc = p.find("doc_id");
    auto response = p.find("response");
    if (doc == p.end() || !doc->is_number_integer()) throw IfevalError(where() + "'doc_id' must be an integer");
    if (response == p.end() || !response->is_string()) throw IfevalError(where() + "'response' must be a string");
    std::int64_t key = doc->get<std::int64_t>();
    auto row = index_of.find(key);
    if (row == index_of.end()) throw IfevalError(where() + "unknown doc_id " + std::to_string(key));
    if (!seen.insert(key).second) throw IfevalError(where() + "repeated doc_id " + std::to_string(key));
    work.emplace_back(row->second, response->get<std::string>());
  }

  std::vector<RowVerdict> verdicts(work.size());
  tbb::parallel_for(std::size_t{0}, work.size(),
                    [&](std::size_t i) { verdicts[i] = evaluate(rows[work[i].first], work[i].second); });

  Metrics m = aggregate(verdicts);
  json instructions = json::object();
  for (const auto& [id, s] : m.by_instruction)
    instructions[id] = {{"n", s.n}, {"strict_acc", s.strict_acc}, {"loose_acc", s.loose_acc}};
  json samples = json::array();
  for (const RowVerdict& v : verdicts) samples.push_back(verdict_json(v));
  json missing = json::array();
  for (const Row& r : rows)
    if (!seen.count(r.key)) missing.push_back(r.key);
  return {{"task", "ifeval"},
          {"n", verdicts.size()},
          {"n_instructions", m.n_instructions},
          {"missing", missing.size()},
          {"missing_doc_ids", std::move(missing)},
          {"metrics",
           {{"prompt_level_strict_acc", m.prompt_level_strict_acc},
            {"inst_level_strict_acc", m.inst_level_strict_acc},
            {"prompt_level_loose_acc", m.prompt_level_loose_acc},
            {"inst_level_loose_acc", m.inst_level_loose_acc},
            {"leaderboard_score", m.leaderboard_score}}},
          {"instructions", std::move(instructions)},
          {"samples", std::move(samples)}};
}

json score_predictions(const std::vector<Row>& rows, const std::filesystem::path& predictions) {
  std::ifstream in(predictions);
  if (!in) throw IfevalError("cannot open " + predictions.string());
  return score_predictions(rows, in);
}

}  // namespace scout::tasks::ifeval
