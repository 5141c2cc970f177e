#include "harness/protocol.h"

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>

#include "engine/util/error.h"
#include "engine/util/sha256.h"
#include "harness/template.h"

namespace scout::harness {
namespace {

[[noreturn]] void bad(std::string_view origin, const std::string& what) {
  throw Error(fmt::format("protocol {}: {}", origin, what));
}

// Rejects keys the schema does not know, so a misspelt setting is an error, not a default.
void check_keys(const nlohmann::json& j, std::initializer_list<std::string_view> known, std::string_view where,
                std::string_view origin) {
  if (!j.is_object()) bad(origin, fmt::format("{} must be an object", where));
  for (const auto& [key, _] : j.items()) {
    bool ok = false;
    for (auto k : known) ok = ok || key == k;
    if (!ok) bad(origin, fmt::format("unknown key \"{}\" in {}", key, where));
  }
}

template <class T>
T get_or(const nlohmann::json& j, const char* key, T fallback) {
  return j.contains(key) && !j.at(key).is_null() ? j.at(key).get<T>() : fallback;
}

ChoiceFormat parse_choices(const nlohmann::json& j, std::string_view origin) {
  check_keys(j, {"labels", "line", "separator", "order", "seed", "continuation"}, "choices", origin);
  ChoiceFormat c;
  c.labels = get_or(j, "labels", c.labels);
  c.line = get_or(j, "line", c.line);
  c.separator = get_or(j, "separator", c.separator);
  c.order = get_or(j, "order", c.order);
  c.seed = get_or<uint64_t>(j, "seed", c.seed);
  c.continuation = get_or(j, "continuation", c.continuation);
  if (c.labels != "letters" && c.labels != "numbers") bad(origin, "choices.labels must be letters or numbers");
  static const std::set<std::string> orders = {"dataset", "seeded", "python_sample_per_example",
                                               "python_shuffle_stream"};
  if (!orders.count(c.order)) bad(origin, "unknown choices.order \"" + c.order + "\"");
  check_template(c.line);
  check_template(c.continuation);
  return c;
}

ShotSpec parse_shots(const nlohmann::json& j, std::string_view origin) {
  check_keys(j, {"count", "select", "target", "target_delimiter", "delimiter", "multiturn"}, "shots", origin);
  ShotSpec s;
  s.count = get_or<int64_t>(j, "count", 0);
  s.select = get_or(j, "select", s.select);
  s.target = get_or(j, "target", s.target);
  s.target_delimiter = get_or(j, "target_delimiter", s.target_delimiter);
  s.delimiter = get_or(j, "delimiter", s.delimiter);
  s.multiturn = get_or(j, "multiturn", s.multiturn);
  if (s.count < 0) bad(origin, "shots.count must be >= 0");
  if (s.select != "first_n" && s.select != "first_n_same_group")
    bad(origin, "shots.select must be first_n or first_n_same_group");
  check_template(s.target);
  return s;
}

GenerationSettings parse_generation(const nlohmann::json& j, std::string_view origin) {
  check_keys(j, {"max_tokens", "temperature", "top_p", "top_k", "stop"}, "generation", origin);
  GenerationSettings g;
  g.max_tokens = get_or<int64_t>(j, "max_tokens", g.max_tokens);
  g.temperature = get_or(j, "temperature", g.temperature);
  g.top_p = get_or(j, "top_p", g.top_p);
  g.top_k = get_or<int64_t>(j, "top_k", g.top_k);
  g.stop = get_or(j, "stop", std::vector<std::string>{});
  if (g.max_tokens <= 0) bad(origin, "generation.max_tokens must be > 0");
  if (g.temperature < 0) bad(origin, "generation.temperature must be >= 0");
  return g;
}

Normalization parse_normalization(const nlohmann::json& j, std::string_view origin) {
  Normalization n;
  if (j.is_null()) return n;
  check_keys(j, {"baseline", "per_group"}, "normalization", origin);
  n.enabled = true;
  const auto& b = j.at("baseline");
  if (b.is_number()) {
    n.baseline = b.get<double>();
    if (*n.baseline < 0 || *n.baseline >= 1) bad(origin, "normalization.baseline must be in [0, 1)");
  } else if (!(b.is_string() && b.get<std::string>() == "choices")) {
    bad(origin, "normalization.baseline must be a number or \"choices\" (1 / number of options)");
  }
  n.per_group = get_or(j, "per_group", false);
  return n;
}

std::string canonical_sha256(const nlohmann::json& j) {
  const std::string text = j.dump();
  return sha256_hex(text.data(), text.size());
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw Error(p.string() + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

std::string_view to_string(RequestKind k) { return k == RequestKind::generate ? "generate" : "loglikelihood"; }

Protocol parse_protocol(const nlohmann::json& j, std::string_view origin) {
  check_keys(j,
             {"task", "protocol", "title", "source", "notes", "card", "default", "dataset", "chat", "system",
              "instruction", "doc_template", "choices", "shots", "request", "target_delimiter", "generation",
              "repeats", "extractor", "scorer", "metrics", "aggregation", "normalization", "primary_metric"},
             "the protocol", origin);
  Protocol p;
  try {
    p.task = j.at("task").get<std::string>();
    p.name = j.at("protocol").get<std::string>();
    p.title = get_or<std::string>(j, "title", "");
    p.source = j.at("source").get<std::string>();
    p.notes = get_or<std::string>(j, "notes", "");
    p.card = get_or<std::string>(j, "card", "");
    p.is_default = get_or(j, "default", false);
    p.dataset = j.at("dataset");
    if (!p.dataset.is_object() || !p.dataset.contains("loader")) bad(origin, "dataset.loader is required");
    p.chat = get_or(j, "chat", false);
    p.system = get_or<std::string>(j, "system", "");
    p.instruction = get_or<std::string>(j, "instruction", "");
    p.doc_template = j.at("doc_template").get<std::string>();
    if (j.contains("choices")) p.choices = parse_choices(j.at("choices"), origin);
    if (j.contains("shots")) p.shots = parse_shots(j.at("shots"), origin);
    const std::string request = j.at("request").get<std::string>();
    if (request == "generate")
      p.kind = RequestKind::generate;
    else if (request == "loglikelihood")
      p.kind = RequestKind::loglikelihood;
    else
      bad(origin, "request must be generate or loglikelihood");
    p.target_delimiter = get_or(j, "target_delimiter", p.target_delimiter);
    if (j.contains("generation")) p.generation = parse_generation(j.at("generation"), origin);
    p.repeats = get_or<int64_t>(j, "repeats", 1);
    if (p.repeats < 1) bad(origin, "repeats must be >= 1");
    if (j.contains("extractor")) p.extractor = j.at("extractor");
    if (j.contains("scorer")) p.scorer = j.at("scorer");
    for (const auto* key : {"extractor", "scorer"}) {
      const auto& e = key[0] == 'e' ? p.extractor : p.scorer;
      if (!e.is_object() || !e.contains("name") || !e.at("name").is_string())
        bad(origin, std::string(key) + " must be an object with a \"name\"");
    }
    p.metrics = j.at("metrics").get<std::vector<std::string>>();
    if (p.metrics.empty()) bad(origin, "metrics must name at least one per-sample metric");
    p.aggregation = get_or<std::string>(j, "aggregation", "mean");
    if (j.contains("normalization")) p.normalization = parse_normalization(j.at("normalization"), origin);
    p.primary_metric = j.at("primary_metric").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    bad(origin, e.what());
  }
  if (p.kind == RequestKind::loglikelihood && p.repeats != 1) bad(origin, "log-likelihood protocols have one repeat");
  check_template(p.doc_template);
  check_template(p.system);
  check_template(p.instruction);
  p.raw = j;
  p.sha256 = canonical_sha256(j);
  return p;
}

Suite parse_suite(const nlohmann::json& j, std::string_view origin) {
  Suite s;
  try {
    check_keys(j, {"suite", "description", "entries"}, "the suite", origin);
    s.name = j.at("suite").get<std::string>();
    s.description = get_or<std::string>(j, "description", "");
    for (const auto& e : j.at("entries")) {
      check_keys(e, {"task", "protocol", "limit", "limit_per_group", "max_tokens", "repeats"}, "a suite entry", origin);
      SuiteEntry entry;
      entry.task = e.at("task").get<std::string>();
      entry.protocol = e.at("protocol").get<std::string>();
      if (e.contains("limit")) entry.limit = e.at("limit").get<int64_t>();
      if (e.contains("limit_per_group")) entry.limit_per_group = e.at("limit_per_group").get<int64_t>();
      if (e.contains("max_tokens")) entry.max_tokens = e.at("max_tokens").get<int64_t>();
      if (e.contains("repeats")) entry.repeats = e.at("repeats").get<int64_t>();
      s.entries.push_back(std::move(entry));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("suite {}: {}", origin, e.what()));
  }
  return s;
}

void ProtocolRegistry::add(Protocol p) {
  auto& task = by_task_[p.task];
  if (task.count(p.name)) throw Error(fmt::format("protocol {}/{} is defined twice", p.task, p.name));
  if (p.is_default)
    for (const auto& [_, other] : task)
      if (other.is_default)
        throw Error(fmt::format("task {}: both {} and {} are marked default", p.task, other.name, p.name));
  task.emplace(p.name, std::move(p));
}

void ProtocolRegistry::add_suite(Suite s) {
  if (suites_.count(s.name)) throw Error("suite " + s.name + " is defined twice");
  suites_.emplace(s.name, std::move(s));
}

void ProtocolRegistry::add_json_text(std::string_view text, std::string_view origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: {}", origin, e.what()));
  }
  if (j.contains("suite"))
    add_suite(parse_suite(j, origin));
  else
    add(parse_protocol(j, origin));
}

void ProtocolRegistry::load_dir(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) throw Error(dir.string() + ": not a directory");
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) add_json_text(read_text(f), f.string());
}

const Protocol& ProtocolRegistry::get(std::string_view task, std::string_view protocol) const {
  const auto t = by_task_.find(std::string(task));
  if (t == by_task_.end()) throw Error(fmt::format("unknown task \"{}\" (scout-eval tasks lists them)", task));
  const auto p = t->second.find(std::string(protocol));
  if (p == t->second.end()) {
    std::string known;
    for (const auto& [name, _] : t->second) known += (known.empty() ? "" : ", ") + name;
    throw Error(fmt::format("task {} has no protocol \"{}\" (it has: {})", task, protocol, known));
  }
  return p->second;
}

const Protocol& ProtocolRegistry::default_for(std::string_view task) const {
  for (const auto* p : protocols_of(task))
    if (p->is_default) return *p;
  const auto all = protocols_of(task);
  if (all.empty()) throw Error(fmt::format("unknown task \"{}\"", task));
  return *all.front();
}

bool ProtocolRegistry::has_task(std::string_view task) const { return by_task_.count(std::string(task)) > 0; }

std::vector<std::string> ProtocolRegistry::tasks() const {
  std::vector<std::string> out;
  for (const auto& [t, _] : by_task_) out.push_back(t);
  return out;
}

std::vector<const Protocol*> ProtocolRegistry::protocols_of(std::string_view task) const {
  std::vector<const Protocol*> out;
  if (auto t = by_task_.find(std::string(task)); t != by_task_.end())
    for (const auto& [_, p] : t->second) out.push_back(&p);
  return out;
}

const Suite& ProtocolRegistry::suite(std::string_view name) const {
  const auto it = suites_.find(std::string(name));
  if (it == suites_.end()) throw Error(fmt::format("unknown suite \"{}\"", name));
  return it->second;
}

std::vector<std::string> ProtocolRegistry::suites() const {
  std::vector<std::string> out;
  for (const auto& [n, _] : suites_) out.push_back(n);
  return out;
}

}  // namespace scout::harness
