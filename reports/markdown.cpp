#include "reports/markdown.h"

#include <fmt/format.h>

#include <cmath>

#include "reports/model_card.h"
#include "reports/report_data.h"

namespace scout::reports {
namespace {

std::string params_string(const std::optional<int64_t>& n) {
  if (!n) return "-";
  return *n >= 1000000000 ? fmt::format("{:.2f}B", double(*n) / 1e9) : fmt::format("{:.1f}M", double(*n) / 1e6);
}

// Table cells: no raw newlines or pipes.
std::string cell(std::string s) {
  std::string out;
  for (char c : s) out += c == '\n' ? std::string(" ") : c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string card_value(double v) { return v >= 100 ? fmt::format("{:.0f}", v) : fmt::format("{:.1f}", v); }

void models_section(const ReportData& d, std::string& out) {
  out += "## Models\n\n";
  if (d.models.empty()) {
    out += "No models recorded.\n\n";
    return;
  }
  out += "| id | file | arch | type | parameters | size | sha256 |\n|---|---|---|---|---|---|---|\n";
  for (const auto& m : d.models)
    out += fmt::format("| {} | `{}` | {} | {} | {} | {:.1f} MiB | `{}…` |\n", m.id, m.path, m.arch, m.file_type,
                       params_string(m.n_params), double(m.file_size) / (1 << 20), m.sha256.substr(0, 12));
  out += "\n";
}

std::string measured_cell(const CardLine& l) {
  if (l.row->task.empty()) return "not yet available";
  if (!l.measured) return "no run yet";
  std::string s = percent_ci(*l.measured);
  if (l.measured->limit) s += " (subset)";
  return s;
}

void card_table(const std::vector<CardLine>& lines, std::string& out) {
  out += "| benchmark | card | protocol | measured (± 95% CI) | n | Δ | run | provenance |\n"
         "|---|---|---|---|---|---|---|---|\n";
  for (const auto& l : lines) {
    const auto& r = *l.row;
    std::string n = "-", delta = "-", run = "-";
    if (l.measured) {
      n = std::to_string(l.measured->n);
      if (r.card_value < 100) delta = fmt::format("{:+.1f}", 100.0 * l.measured->value - r.card_value);
      run = std::to_string(l.measured->run_id);
    }
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", r.benchmark, card_value(r.card_value), r.protocol,
                       measured_cell(l), n, delta, run, cell(std::string(r.provenance)));
  }
  out += "\n";
}

void card_section(const ReportData& d, std::string& out) {
  out += "## Llama 4 Scout model card: published vs measured\n\n";
  out += "Card values as published; measured values are the protocol's primary metric ×100 with its percentile-"
         "bootstrap 95% interval; Δ = measured − card. \"(subset)\" marks a run limited to part of the data.\n\n";
  if (d.cards.empty()) {
    std::vector<CardLine> lines;
    for (const auto& r : scout_card()) lines.push_back({&r, std::nullopt});
    card_table(lines, out);
    return;
  }
  for (const auto& c : d.cards) {
    out += fmt::format("### {}\n\n", c.model);
    card_table(c.lines, out);
  }
}

void quant_section(const ReportData& d, std::string& out) {
  if (d.quant_deltas.empty()) return;
  out += "## Quantization deltas\n\nThe same task and protocol on several quantizations of one model; Δ against "
         "the highest-precision file.\n\n| task | protocol | metric | file | value | Δ |\n|---|---|---|---|---|---|\n";
  for (const auto& q : d.quant_deltas)
    for (const auto& e : q.entries)
      out += fmt::format("| {} | {} | {} | {} | {} | {:+.1f} |\n", q.task, q.protocol, q.metric, e.model, percent(e.value),
                         100.0 * e.delta);
  out += "\n";
}

void runs_section(const ReportData& d, std::string& out) {
  out += "## Runs\n\n";
  if (d.runs.empty()) {
    out += "No evaluation runs recorded yet.\n\n";
    return;
  }
  out += "| run | model | protocol | tasks | status | seconds |\n|---|---|---|---|---|---|\n";
  for (const auto& r : d.runs) {
    std::string tasks;
    for (const auto& t : r.tasks) tasks += (tasks.empty() ? "" : ", ") + t;
    out += fmt::format("| {} | {} | {} | {} | {} | {:.1f} |\n", r.id, model_label(d.models, r.model_id), r.protocol, tasks,
                       store::to_string(r.status), r.wall_seconds.value_or(0.0));
  }
  out += "\n";
}

std::string fence(const std::string& s) {
  // A fence longer than any backtick run inside.
  size_t longest = 0, run = 0;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string f(std::max<size_t>(3, longest + 1), '`');
  return f + "text\n" + s + "\n" + f + "\n";
}

void details_section(const ReportData& d, std::string& out) {
  if (d.details.empty()) return;
  out += "## Task details\n\n";
  for (const auto& t : d.details) {
    out += fmt::format("### {} [{}] — run {}, {}\n\n", t.task, t.protocol, t.run_id, t.model);
    // A rate over a fraction of a second (a fake backend) says nothing.
    const std::string rate = t.seconds >= 0.5 && t.output_tokens
                                 ? fmt::format(", {:.1f} output tokens/s", double(t.output_tokens) / t.seconds)
                                 : "";
    out += fmt::format("{} samples, answer not found in {}, {:.1f} s of backend time{}\n\n", t.n_samples,
                       t.answer_not_found, t.seconds, rate);
    if (!t.metrics.empty()) {
      out += "| task / group | metric | value | 95% CI | n |\n|---|---|---|---|---|\n";
      for (const auto& m : t.metrics) {
        const bool count = m.name == "answer_not_found";
        const std::string value = count ? fmt::format("{:.0f}", m.value) : std::isnan(m.value) ? "n/a" : fmt::format("{:.4f}", m.value);
        const std::string ci = m.ci_low && m.ci_high ? fmt::format("{:.4f}–{:.4f}", *m.ci_low, *m.ci_high) : "-";
        out += fmt::format("| {} | {} | {} | {} | {} |\n", m.task, m.name, value, ci, m.n);
      }
      out += "\n";
    }
    for (const auto& f : t.failures) {
      out += fmt::format("<details><summary>failure: {} (repeat {}) — answer {}, target {}</summary>\n\n", f.doc_id, f.repeat,
                         f.answer ? fmt::format("`{}`", cell(*f.answer)) : "not found",
                         f.target ? fmt::format("`{}`", cell(*f.target)) : "-");
      out += "Prompt (end):\n\n" + fence(f.prompt_tail) + "\nOutput (start):\n\n" + fence(f.output_head) + "\n</details>\n\n";
    }
  }
}

}  // namespace

std::string markdown_report(store::Store& db) {
  const ReportData d = collect_report(db);
  std::string out = "# scout-eval report\n\n";
  out += fmt::format("Database: `{}`\n\n", d.db_path);
  models_section(d, out);
  card_section(d, out);
  quant_section(d, out);
  runs_section(d, out);
  details_section(d, out);
  return out;
}

}  // namespace scout::reports
