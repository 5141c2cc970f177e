#include "reports/html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "reports/model_card.h"
#include "reports/report_data.h"

namespace scout::reports {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

constexpr const char* kStyle = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;color:#1a1a1a;padding:0 1rem}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}h3{margin-top:1.6rem}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.9rem}
th,td{border:1px solid #d0d0d0;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.na{color:#888}.pos{color:#176f2c}.neg{color:#a11}
pre{background:#f7f7f7;padding:.5rem;overflow-x:auto;white-space:pre-wrap;font-size:.8rem;max-height:22rem}
details{margin:.3rem 0}summary{cursor:pointer}
svg text{font-family:system-ui,sans-serif;font-size:11px}
.legend span{display:inline-block;margin-right:1rem}.sw{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
)css";

std::string num(double v, const char* f = "{:.4f}") { return std::isnan(v) ? "n/a" : fmt::format(fmt::runtime(f), v); }

// Horizontal bars: card value (grey) and measured value (blue) with its CI, 0-100 scale.
std::string card_chart(const ModelCard& c) {
  std::vector<const CardLine*> lines;
  for (const auto& l : c.lines)
    if (!l.row->task.empty() && l.row->card_value <= 100) lines.push_back(&l);
  if (lines.empty()) return "";
  const int label_w = 130, width = 720, row_h = 34, top = 10;
  const int plot_w = width - label_w - 60;
  const int height = top + int(lines.size()) * row_h + 30;
  auto x = [&](double pct) { return label_w + plot_w * std::clamp(pct, 0.0, 100.0) / 100.0; };
  std::string svg = fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" role="img" aria-label="card versus measured">)",
                                width, height);
  for (int t = 0; t <= 100; t += 20) {
    svg += fmt::format(R"(<line x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}" stroke="#e4e4e4"/>)", x(t), top, height - 25);
    svg += fmt::format(R"(<text x="{:.1f}" y="{}" text-anchor="middle" fill="#666">{}</text>)", x(t), height - 10, t);
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& l = *lines[i];
    const int y = top + int(i) * row_h;
    svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="end">{}</text>)", label_w - 8, y + 19,
                       html_escape(l.row->benchmark));
    svg += fmt::format(R"(<rect x="{}" y="{}" width="{:.1f}" height="11" fill="#b9b9b9"><title>card {}</title></rect>)",
                       label_w, y + 4, x(l.row->card_value) - label_w, l.row->card_value);
    if (l.measured) {
      const double v = 100 * l.measured->value;
      svg += fmt::format(R"(<rect x="{}" y="{}" width="{:.1f}" height="11" fill="#2f6fb5"><title>measured {:.1f}</title></rect>)",
                         label_w, y + 17, x(v) - label_w, v);
      if (l.measured->ci_low && l.measured->ci_high)
        svg += fmt::format(R"(<line x1="{:.1f}" y1="{}" x2="{:.1f}" y2="{}" stroke="#123" stroke-width="1.5"/>)",
                           x(100 * *l.measured->ci_low), y + 22, x(100 * *l.measured->ci_high), y + 22);
      svg += fmt::format(R"(<text x="{:.1f}" y="{}" fill="#123">{:.1f}</text>)", x(v) + 4, y + 27, v);
    } else {
      svg += fmt::format(R"(<text x="{}" y="{}" fill="#888">no run yet</text>)", label_w + 4, y + 27);
    }
  }
  return svg + "</svg>";
}

// Vertical bars of a task's per-group values of one metric.
std::string group_chart(const TaskDetail& t) {
  const store::Metric* primary = nullptr;
  for (const auto& m : t.metrics)
    if (m.task == t.task && m.details.is_object() && m.details.value("primary", false)) primary = &m;
  if (!primary) return "";
  // Groups carry the raw metric; a normalized primary is shown through its base metric.
  std::string name = primary->name;
  std::vector<const store::Metric*> groups;
  for (const auto& m : t.metrics)
    if (m.task != t.task && m.name == name) groups.push_back(&m);
  // Rows that are not groups of the primary metric (IFEval's instruction types): chart
  // their first metric instead.
  if (groups.empty()) {
    for (const auto& m : t.metrics)
      if (m.task != t.task) {
        name = m.name;
        break;
      }
    for (const auto& m : t.metrics)
      if (m.task != t.task && m.name == name) groups.push_back(&m);
  }
  if (groups.size() < 2) return "";
  const int bar = std::max(8, std::min(40, 700 / int(groups.size()))), height = 230, base = 150;
  const int width = 40 + bar * int(groups.size()) + 10;
  std::string svg = fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" role="img" aria-label="{} by group">)",
                                width, height, html_escape(name));
  for (int t100 = 0; t100 <= 100; t100 += 25) {
    const double y = base - 1.4 * t100;
    svg += fmt::format(R"(<line x1="35" y1="{0:.1f}" x2="{1}" y2="{0:.1f}" stroke="#eee"/><text x="30" y="{2:.1f}" text-anchor="end" fill="#666">{3}</text>)",
                       y, width, y + 4, t100);
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    const auto& m = *groups[i];
    const double v = std::isnan(m.value) ? 0 : std::clamp(100 * m.value, 0.0, 100.0);
    const double x0 = 40 + double(i) * bar;
    const std::string label = m.task.substr(t.task.size() + 1);
    svg += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{}" height="{:.1f}" fill="#2f6fb5"><title>{}: {:.1f} (n={})</title></rect>)",
                       x0 + 1, base - 1.4 * v, bar - 2, 1.4 * v, html_escape(label), v, m.n);
    svg += fmt::format(R"svg(<text transform="translate({:.1f},{}) rotate(55)" fill="#333">{}</text>)svg", x0 + bar / 2.0, base + 6,
                       html_escape(label.size() > 22 ? label.substr(0, 21) + "…" : label));
  }
  return svg + "</svg>";
}

void card_html(const ReportData& d, std::string& out) {
  out += "<h2>Llama 4 Scout model card: published vs measured</h2>\n<p>Measured = the protocol's primary metric ×100, "
         "± half the percentile-bootstrap 95% interval; Δ = measured − card; \"subset\" marks a run limited to part of "
         "the data.</p>\n";
  std::vector<ModelCard> cards = d.cards;
  if (cards.empty()) {
    ModelCard empty{"no runs yet", std::nullopt, {}};
    for (const auto& r : scout_card()) empty.lines.push_back({&r, std::nullopt});
    cards.push_back(empty);
  }
  for (const auto& c : cards) {
    out += "<h3>" + html_escape(c.model) + "</h3>\n";
    out += "<table class=\"card\"><tr><th>benchmark</th><th>card</th><th>protocol</th><th>measured</th><th>n</th>"
           "<th>Δ</th><th>run</th><th>provenance</th></tr>\n";
    for (const auto& l : c.lines) {
      const auto& r = *l.row;
      std::string measured = r.task.empty() ? "<span class=\"na\">not yet available</span>" : "<span class=\"na\">no run yet</span>";
      std::string n, delta, run;
      if (l.measured) {
        measured = html_escape(percent_ci(*l.measured)) + (l.measured->limit ? " <span class=\"na\">(subset)</span>" : "");
        n = std::to_string(l.measured->n);
        run = std::to_string(l.measured->run_id);
        if (r.card_value <= 100) {
          const double dv = 100 * l.measured->value - r.card_value;
          delta = fmt::format("<span class=\"{}\">{:+.1f}</span>", dv >= 0 ? "pos" : "neg", dv);
        }
      }
      out += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                         "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
                         html_escape(r.benchmark), r.card_value >= 100 ? fmt::format("{:.0f}", r.card_value) : fmt::format("{:.1f}", r.card_value),
                         html_escape(r.protocol), measured, n, delta, run, html_escape(r.provenance));
    }
    out += "</table>\n";
    if (!d.cards.empty()) {
      const std::string chart = card_chart(c);
      if (!chart.empty())
        out += "<p class=\"legend\"><span><i class=\"sw\" style=\"background:#b9b9b9\"></i>card</span><span><i class=\"sw\" "
               "style=\"background:#2f6fb5\"></i>measured (line: 95% CI)</span></p>\n" + chart + "\n";
    }
  }
}

void details_html(const ReportData& d, std::string& out) {
  if (d.details.empty()) return;
  out += "<h2>Task details</h2>\n";
  for (const auto& t : d.details) {
    out += fmt::format("<h3 id=\"run{}-{}\">{} [{}] — run {}</h3>\n<p>{} · {} samples · answer not found in {} · {:.1f} s backend time</p>\n",
                       t.run_id, html_escape(t.task), html_escape(t.task), html_escape(t.protocol), t.run_id,
                       html_escape(t.model), t.n_samples, t.answer_not_found, t.seconds);
    if (!t.metrics.empty()) {
      out += "<table><tr><th>task / group</th><th>metric</th><th>value</th><th>95% CI</th><th>n</th></tr>\n";
      for (const auto& m : t.metrics) {
        const bool count = m.name == "answer_not_found";
        out += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                           html_escape(m.task), html_escape(m.name), count ? fmt::format("{:.0f}", m.value) : num(m.value),
                           m.ci_low && m.ci_high ? num(*m.ci_low) + "–" + num(*m.ci_high) : "-", m.n);
      }
      out += "</table>\n";
    }
    out += group_chart(t);
    for (const auto& f : t.failures)
      out += fmt::format("<details><summary>failure: {} (repeat {}) — answer {}, target {}</summary>"
                         "<p>Prompt (end):</p><pre>{}</pre><p>Output (start):</p><pre>{}</pre></details>\n",
                         html_escape(f.doc_id), f.repeat, f.answer ? "<code>" + html_escape(*f.answer) + "</code>" : "not found",
                         f.target ? "<code>" + html_escape(*f.target) + "</code>" : "-", html_escape(f.prompt_tail),
                         html_escape(f.output_head));
  }
}

}  // namespace

std::string html_report(store::Store& db) {
  const ReportData d = collect_report(db);
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>scout-eval report</title>\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<style>" + std::string(kStyle) + "</style></head>\n<body>\n";
  out += "<h1>scout-eval report</h1>\n<p>Database: <code>" + html_escape(d.db_path) + "</code></p>\n";

  out += "<h2>Models</h2>\n";
  if (d.models.empty()) {
    out += "<p class=\"na\">No models recorded.</p>\n";
  } else {
    out += "<table><tr><th>id</th><th>file</th><th>arch</th><th>type</th><th>size</th><th>sha256</th></tr>\n";
    for (const auto& m : d.models)
      out += fmt::format("<tr><td class=\"num\">{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"num\">{:.1f} MiB</td><td><code>{}…</code></td></tr>\n",
                         m.id, html_escape(m.path), html_escape(m.arch), html_escape(m.file_type), double(m.file_size) / (1 << 20),
                         m.sha256.substr(0, 12));
    out += "</table>\n";
  }
  card_html(d, out);

  if (!d.quant_deltas.empty()) {
    out += "<h2>Quantization deltas</h2>\n<table><tr><th>task</th><th>protocol</th><th>metric</th><th>file</th><th>value</th><th>Δ</th></tr>\n";
    for (const auto& q : d.quant_deltas)
      for (const auto& e : q.entries)
        out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:+.1f}</td></tr>\n",
                           html_escape(q.task), html_escape(q.protocol), html_escape(q.metric), html_escape(e.model),
                           percent(e.value), 100 * e.delta);
    out += "</table>\n";
  }

  out += "<h2>Runs</h2>\n";
  if (d.runs.empty()) {
    out += "<p class=\"na\">No evaluation runs recorded yet.</p>\n";
  } else {
    out += "<table><tr><th>run</th><th>model</th><th>protocol</th><th>tasks</th><th>status</th><th>seconds</th></tr>\n";
    for (const auto& r : d.runs) {
      std::string tasks;
      for (const auto& t : r.tasks) tasks += (tasks.empty() ? "" : ", ") + t;
      out += fmt::format("<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{:.1f}</td></tr>\n",
                         r.id, html_escape(model_label(d.models, r.model_id)), html_escape(r.protocol), html_escape(tasks),
                         store::to_string(r.status), r.wall_seconds.value_or(0.0));
    }
    out += "</table>\n";
  }
  details_html(d, out);
  out += "</body></html>\n";
  return out;
}

}  // namespace scout::reports
