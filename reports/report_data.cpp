#include "reports/report_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

namespace scout::reports {
namespace {

// Higher first: the reference a quantization is compared with.
int precision_rank(const std::string& file_type) {
  for (const auto& [prefix, rank] : std::vector<std::pair<std::string, int>>{
           {"F32", 100}, {"ALL_F32", 100}, {"BF16", 90}, {"MOSTLY_BF16", 90}, {"F16", 85}, {"MOSTLY_F16", 85},
           {"Q8", 80}, {"MOSTLY_Q8", 80}, {"Q6", 70}, {"MOSTLY_Q6", 70}, {"Q5", 60}, {"MOSTLY_Q5", 60},
           {"Q4", 50}, {"MOSTLY_Q4", 50}, {"IQ4", 45}, {"Q3", 40}, {"MOSTLY_Q3", 40}, {"Q2", 30}, {"MOSTLY_Q2", 30}})
    if (file_type.starts_with(prefix)) return rank;
  return 0;
}

struct TaskEntry {
  std::string task, name, protocol;
  std::optional<int64_t> limit;
};

std::vector<TaskEntry> task_entries(const store::Run& r) {
  std::vector<TaskEntry> out;
  if (!r.config.contains("tasks")) return out;
  for (const auto& t : r.config.at("tasks")) {
    TaskEntry e;
    e.task = t.value("task", std::string());
    e.name = t.value("name", e.task);
    e.protocol = t.value("protocol", std::string());
    if (t.contains("limit") && !t.at("limit").is_null()) e.limit = t.at("limit").get<int64_t>();
    if (t.contains("limit_per_group") && !t.at("limit_per_group").is_null()) e.limit = t.at("limit_per_group").get<int64_t>();
    out.push_back(e);
  }
  return out;
}

const store::Metric* primary_of(const std::vector<store::Metric>& ms, const std::string& task) {
  for (const auto& m : ms)
    if (m.task == task && m.details.is_object() && m.details.value("primary", false)) return &m;
  return nullptr;
}

// At most n bytes of the head or tail, cut on a UTF-8 character boundary.
std::string excerpt(const std::string& s, size_t n, bool tail) {
  if (s.size() <= n) return s;
  auto continuation = [&s](size_t i) { return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80; };
  if (tail) {
    size_t from = s.size() - n;
    while (continuation(from)) ++from;
    return "…" + s.substr(from);
  }
  size_t to = n;
  while (to > 0 && continuation(to)) --to;
  return s.substr(0, to) + "…";
}

}  // namespace

std::string model_label(const std::vector<store::Model>& models, const std::optional<int64_t>& id) {
  if (!id) return "no model file (server or fake backend)";
  for (const auto& m : models)
    if (m.id == *id) return fmt::format("{} ({})", std::filesystem::path(m.path).filename().string(), m.file_type);
  return fmt::format("model {}", *id);
}

std::string percent(double v) { return std::isnan(v) ? "n/a" : fmt::format("{:.1f}", 100.0 * v); }

std::string percent_ci(const Measured& m) {
  std::string s = percent(m.value);
  if (m.ci_low && m.ci_high) s += fmt::format(" ± {:.1f}", 50.0 * (*m.ci_high - *m.ci_low));
  return s;
}

ReportData collect_report(store::Store& db, int failures_per_task) {
  ReportData d;
  d.db_path = db.path().string();
  d.models = db.list_models();
  d.runs = db.list_runs();  // newest first

  std::map<int64_t, std::vector<store::Metric>> metrics;
  for (const auto& r : d.runs) metrics[r.id] = db.metrics_for_run(r.id);

  // The card per model: for each row, the measurement with the most documents (newest wins a tie).
  std::vector<std::optional<int64_t>> model_ids;
  for (const auto& r : d.runs)
    if (std::find(model_ids.begin(), model_ids.end(), r.model_id) == model_ids.end()) model_ids.push_back(r.model_id);
  for (const auto& mid : model_ids) {
    ModelCard card{model_label(d.models, mid), mid, {}};
    for (const auto& row : scout_card()) {
      CardLine line{&row, std::nullopt};
      for (const auto& r : d.runs) {
        if (r.model_id != mid || row.task.empty()) continue;
        for (const auto& e : task_entries(r)) {
          if (e.task != row.task || e.protocol != row.protocol) continue;
          const auto* m = primary_of(metrics[r.id], e.name);
          if (!m || std::isnan(m->value)) continue;
          if (line.measured && line.measured->n >= m->n) continue;
          line.measured = Measured{m->value, m->ci_low, m->ci_high, m->n, r.id, m->name, e.limit};
        }
      }
      card.lines.push_back(line);
    }
    d.cards.push_back(std::move(card));
  }

  // Per-quantization deltas: the same (task, protocol, limit) run on several files of one
  // architecture and size.
  std::map<std::tuple<std::string, std::string, std::string, int64_t>, std::map<int64_t, std::pair<double, std::string>>> by;
  for (const auto& r : d.runs) {
    if (!r.model_id) continue;
    const auto model = std::find_if(d.models.begin(), d.models.end(), [&](const auto& m) { return m.id == *r.model_id; });
    if (model == d.models.end()) continue;
    for (const auto& e : task_entries(r))
      if (const auto* m = primary_of(metrics[r.id], e.name)) {
        auto& slot = by[{e.task, e.protocol, model->arch + "/" + std::to_string(model->n_params.value_or(0)), e.limit.value_or(-1)}];
        if (!slot.count(model->id)) slot[model->id] = {m->value, m->name};
      }
  }
  for (const auto& [key, per_model] : by) {
    if (per_model.size() < 2) continue;
    QuantDelta q{std::get<0>(key), std::get<1>(key), per_model.begin()->second.second, {}};
    for (const auto& [mid, v] : per_model) {
      const auto& m = *std::find_if(d.models.begin(), d.models.end(), [&](const auto& x) { return x.id == mid; });
      q.entries.push_back({model_label(d.models, mid), m.file_type, v.first, 0});
    }
    std::stable_sort(q.entries.begin(), q.entries.end(),
                     [](const auto& a, const auto& b) { return precision_rank(a.file_type) > precision_rank(b.file_type); });
    for (auto& e : q.entries) e.delta = e.value - q.entries.front().value;
    d.quant_deltas.push_back(std::move(q));
  }

  // Per-task details of every run.
  for (const auto& r : d.runs) {
    for (const auto& e : task_entries(r)) {
      TaskDetail t;
      t.run_id = r.id;
      t.model = model_label(d.models, r.model_id);
      t.task = e.name;
      t.protocol = e.protocol;
      for (const auto& m : metrics[r.id])
        if (m.task == e.name || m.task.starts_with(e.name + "/")) t.metrics.push_back(m);
      std::stable_partition(t.metrics.begin(), t.metrics.end(), [&](const auto& m) { return m.task == e.name; });
      for (const auto& s : db.samples_for_run(r.id, e.name)) {
        ++t.n_samples;
        t.seconds += s.seconds.value_or(0);
        t.output_tokens += s.n_output_tokens.value_or(0);
        const bool generation = !s.extra.contains("logprobs");
        if (generation && !s.answer) ++t.answer_not_found;
        if (s.score && *s.score < 0.5 && int(t.failures.size()) < failures_per_task)
          t.failures.push_back({s.doc_id, s.repeat, excerpt(s.prompt, 400, true), excerpt(s.output, 600, false), s.answer,
                                s.target});
      }
      d.details.push_back(std::move(t));
    }
  }
  return d;
}

}  // namespace scout::reports
