#include "harness/task.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/util/error.h"
#include "harness/data/pyrandom.h"
#include "harness/metrics.h"
#include "harness/template.h"

namespace scout::harness {
namespace {

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Unicode code points of UTF-8 text: lm-eval's len(choice) for acc_norm.
size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

template <class Map>
const typename Map::mapped_type& lookup(const Map& m, std::string_view name, std::string_view kind) {
  const auto it = m.find(std::string(name));
  if (it == m.end()) {
    std::string known;
    for (const auto& [k, _] : m) known += (known.empty() ? "" : ", ") + k;
    throw Error(fmt::format("unknown {} \"{}\" (known: {})", kind, name, known));
  }
  return it->second;
}

std::vector<std::string> choices_of(const Doc& doc) {
  std::vector<std::string> out;
  if (doc.fields.contains("choices"))
    for (const auto& c : doc.fields.at("choices")) out.push_back(c.is_string() ? c.get<std::string>() : c.dump());
  return out;
}

int64_t gold_of(const Doc& doc) {
  return doc.fields.contains("gold") ? doc.fields.at("gold").get<int64_t>() : -1;
}

std::vector<int64_t> identity(size_t n) {
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = int64_t(i);
  return v;
}

}  // namespace

uint64_t sample_seed(uint64_t run_seed, std::string_view task, std::string_view doc_id, int64_t repeat) {
  uint64_t h = splitmix64(run_seed);
  h = splitmix64(h ^ fnv1a(task));
  h = splitmix64(h ^ fnv1a(doc_id));
  return splitmix64(h ^ uint64_t(repeat));
}

std::string option_label(std::string_view kind, size_t index) {
  if (kind == "numbers") return std::to_string(index + 1);
  std::string s;
  size_t i = index;
  do {
    s.insert(s.begin(), char('A' + i % 26));
    i = i / 26;
  } while (i-- > 0);
  return s;
}

// --- Components

void Components::add_loader(std::string name, Loader f) { loaders_[std::move(name)] = std::move(f); }
void Components::add_extractor(std::string name, Extractor f) { extractors_[std::move(name)] = std::move(f); }
void Components::add_scorer(std::string name, Scorer f) { scorers_[std::move(name)] = std::move(f); }
void Components::add_aggregator(std::string name, Aggregator f) { aggregators_[std::move(name)] = std::move(f); }
const Loader& Components::loader(std::string_view name) const { return lookup(loaders_, name, "loader"); }
const Extractor& Components::extractor(std::string_view name) const { return lookup(extractors_, name, "extractor"); }
const Scorer& Components::scorer(std::string_view name) const { return lookup(scorers_, name, "scorer"); }
const Aggregator& Components::aggregator(std::string_view name) const {
  return lookup(aggregators_, name, "aggregator");
}
void Components::add_breakdown(std::string aggregator, Breakdown b) { breakdowns_[std::move(aggregator)] = std::move(b); }
const Breakdown* Components::breakdown(std::string_view aggregator) const {
  auto it = breakdowns_.find(std::string(aggregator));
  return it == breakdowns_.end() ? nullptr : &it->second;
}

// --- EvalTask

EvalTask::EvalTask(const Protocol& protocol, const Components& components, DataDir& data, TaskSettings settings)
    : protocol_(protocol), components_(components), settings_(std::move(settings)) {
  // Fail on unknown names before any work.
  (void)components_.extractor(protocol_.extractor.at("name").get<std::string>());
  if (protocol_.kind == RequestKind::generate) (void)components_.scorer(protocol_.scorer.at("name").get<std::string>());
  if (protocol_.aggregation != "mean" && protocol_.aggregation != "macro")
    (void)components_.aggregator(protocol_.aggregation);

  dataset_ = components_.loader(protocol_.dataset.at("loader").get<std::string>())(data, protocol_.dataset);
  for (size_t i = 0; i < dataset_.docs.size(); ++i)
    if (!doc_index_.emplace(dataset_.docs[i].id, i).second)
      throw Error(fmt::format("task {}: duplicate document id \"{}\"", name(), dataset_.docs[i].id));
  const size_t n = settings_.limit ? std::min<size_t>(size_t(std::max<int64_t>(0, *settings_.limit)), dataset_.docs.size())
                                   : dataset_.docs.size();
  if (settings_.limit_per_group) {
    // The first N documents of every group, in data set order (then --limit on top).
    std::map<std::string, int64_t> taken;
    for (const auto& d : dataset_.docs)
      if (taken[d.group]++ < *settings_.limit_per_group && docs_.size() < n) docs_.push_back(d);
  } else {
    docs_.assign(dataset_.docs.begin(), dataset_.docs.begin() + ptrdiff_t(n));
  }
  for (size_t i = 0; i < docs_.size(); ++i) eval_index_.emplace(docs_[i].id, i);
  repeats_ = settings_.repeats.value_or(protocol_.repeats);
  if (repeats_ < 1) throw Error("repeats must be >= 1");
  if (protocol_.kind == RequestKind::loglikelihood) repeats_ = 1;
  chat_ = settings_.chat.value_or(protocol_.chat);

  const auto& order = protocol_.choices.order;
  if (order == "python_sample_per_example" || order == "python_shuffle_stream") {
    // One generator over the whole data set, as the reference code runs it.
    PyRandom rng(protocol_.choices.seed);
    stream_orders_.resize(size_t(repeats_));
    for (int64_t r = 0; r < repeats_; ++r)
      for (const auto& doc : dataset_.docs) {
        const auto k = int64_t(choices_of(doc).size());
        stream_orders_[size_t(r)].push_back(order == "python_sample_per_example" ? rng.sample(k, k)
                                                                                   : rng.shuffle_indices(k));
      }
  }
}

const Doc* EvalTask::find_doc(std::string_view id) const {
  const auto it = eval_index_.find(std::string(id));
  return it == eval_index_.end() ? nullptr : &docs_[it->second];
}

std::vector<int64_t> EvalTask::option_order(const Doc& doc, size_t doc_index, int64_t repeat) const {
  const size_t n = choices_of(doc).size();
  const auto& order = protocol_.choices.order;
  if (n == 0 || order == "dataset") return identity(n);
  if (order == "seeded") {
    PyRandom rng(sample_seed(settings_.seed ^ protocol_.choices.seed, task_name() + "#order", doc.id, repeat));
    return rng.shuffle_indices(int64_t(n));
  }
  return stream_orders_.at(size_t(repeat)).at(doc_index);
}

nlohmann::json EvalTask::template_vars(const Doc& doc, const std::vector<int64_t>& order) const {
  nlohmann::json vars = doc.fields;
  vars["doc_id"] = doc.id;
  vars["group"] = doc.group;
  const auto choices = choices_of(doc);
  if (!choices.empty()) {
    std::string block;
    const int64_t gold = gold_of(doc);
    for (size_t pos = 0; pos < order.size(); ++pos) {
      const std::string label = option_label(protocol_.choices.labels, pos);
      const nlohmann::json line_vars = {
          {"label", label}, {"text", choices[size_t(order[pos])]}, {"index", int64_t(pos) + 1}};
      if (pos) block += protocol_.choices.separator;
      block += render_template(protocol_.choices.line, line_vars);
      if (order[pos] == gold) {
        vars["gold_label"] = label;
        vars["gold_text"] = choices[size_t(gold)];
      }
    }
    vars["choices_block"] = block;
    vars["n_choices"] = int64_t(choices.size());
  }
  if (!vars.contains("gold_text") && doc.fields.contains("answer")) vars["gold_text"] = doc.fields.at("answer");
  return vars;
}

std::string EvalTask::shot_text(const Doc& doc) const {
  const auto vars = template_vars(doc, identity(choices_of(doc).size()));
  return render_template(protocol_.doc_template, vars) + protocol_.shots.target_delimiter +
         render_template(protocol_.shots.target, vars) + protocol_.shots.delimiter;
}

std::vector<ChatMessage> EvalTask::shot_messages(const Doc& doc) const {
  const auto vars = template_vars(doc, identity(choices_of(doc).size()));
  return {{"user", render_template(protocol_.doc_template, vars)},
          {"assistant", render_template(protocol_.shots.target, vars)}};
}

PreparedSample EvalTask::prepare(const Doc& doc, int64_t repeat) const {
  const auto idx = doc_index_.find(doc.id);
  if (idx == doc_index_.end()) throw Error(fmt::format("task {}: unknown document \"{}\"", name(), doc.id));
  PreparedSample ps;
  ps.doc_id = doc.id;
  ps.repeat = repeat;
  ps.kind = protocol_.kind;
  ps.order = option_order(doc, idx->second, repeat);
  const auto vars = template_vars(doc, ps.order);
  const auto choices = choices_of(doc);
  const int64_t gold = gold_of(doc);
  for (size_t pos = 0; pos < ps.order.size(); ++pos) {
    ps.labels.push_back(option_label(protocol_.choices.labels, pos));
    ps.option_texts.push_back(choices[size_t(ps.order[pos])]);
    if (ps.order[pos] == gold) ps.gold_position = int64_t(pos);
  }

  // The few-shot examples: the first N of the pool (of the same group when asked), never the
  // document itself.
  std::vector<const Doc*> shots;
  for (const auto& s : dataset_.shots) {
    if (int64_t(shots.size()) >= protocol_.shots.count) break;
    if (s.id == doc.id && s.fields == doc.fields) continue;
    if (protocol_.shots.select == "first_n_same_group" && s.group != doc.group) continue;
    shots.push_back(&s);
  }
  if (int64_t(shots.size()) < protocol_.shots.count)
    throw Error(fmt::format("task {}: {} shots wanted for \"{}\", the pool has {}", name(), protocol_.shots.count,
                            doc.id, shots.size()));

  const std::string doc_text = render_template(protocol_.doc_template, vars);
  const std::string instruction = render_template(protocol_.instruction, vars);
  ps.prompt.chat = chat_;
  if (chat_) {
    std::string system = render_template(protocol_.system, vars);
    if (!instruction.empty()) system += (system.empty() ? "" : protocol_.shots.delimiter) + instruction;
    if (!system.empty()) ps.prompt.messages.push_back({"system", system});
    std::string prefix;
    for (const Doc* s : shots) {
      if (protocol_.shots.multiturn) {
        for (auto& m : shot_messages(*s)) ps.prompt.messages.push_back(std::move(m));
      } else {
        prefix += shot_text(*s);
      }
    }
    ps.prompt.messages.push_back({"user", prefix + doc_text});
  } else {
    std::string text = instruction;
    for (const Doc* s : shots) text += shot_text(*s);
    ps.prompt.text = text + doc_text;
  }

  if (protocol_.kind == RequestKind::loglikelihood) {
    if (ps.order.empty()) throw Error(fmt::format("task {}: document \"{}\" has no options", name(), doc.id));
    for (size_t pos = 0; pos < ps.order.size(); ++pos) {
      const nlohmann::json cv = {{"label", ps.labels[pos]}, {"text", ps.option_texts[pos]}, {"index", int64_t(pos) + 1}};
      ps.continuations.push_back(protocol_.target_delimiter + render_template(protocol_.choices.continuation, cv));
    }
  } else {
    ps.settings = protocol_.generation;
    if (settings_.max_tokens) ps.settings.max_tokens = std::min(ps.settings.max_tokens, *settings_.max_tokens);
    if (settings_.temperature) ps.settings.temperature = *settings_.temperature;
    ps.settings.seed = sample_seed(settings_.seed, task_name(), doc.id, repeat);
  }
  if (ps.gold_position >= 0)
    ps.target = ps.labels[size_t(ps.gold_position)];
  else if (doc.fields.contains("answer"))
    ps.target = doc.fields.at("answer").is_string() ? doc.fields.at("answer").get<std::string>()
                                                     : doc.fields.at("answer").dump();
  return ps;
}

std::optional<std::string> EvalTask::extract(std::string_view output) const {
  return components_.extractor(protocol_.extractor.at("name").get<std::string>())(output, protocol_.extractor);
}

store::Sample EvalTask::score_generation(const Doc& doc, const PreparedSample& ps, std::string output,
                                         std::string stored_prompt) const {
  store::Sample s;
  s.task = name();
  s.doc_id = doc.id;
  s.repeat = ps.repeat;
  s.prompt = std::move(stored_prompt);
  s.output = std::move(output);
  s.answer = extract(s.output);
  s.target = ps.target;
  const ScoreContext ctx{doc, ps, protocol_.scorer};
  SampleScore sc = components_.scorer(protocol_.scorer.at("name").get<std::string>())(ctx, s.answer, s.output);
  const auto primary = sc.metrics.find(protocol_.metrics.front());
  if (primary == sc.metrics.end())
    throw Error(fmt::format("task {}: scorer gave no \"{}\"", name(), protocol_.metrics.front()));
  s.score = primary->second;
  s.extra = std::move(sc.extra);
  s.extra["metrics"] = sc.metrics;
  return s;
}

store::Sample EvalTask::score_loglikelihood(const Doc& doc, const PreparedSample& ps, std::span<const double> logprobs,
                                            std::span<const char> greedy, std::string stored_prompt) const {
  if (logprobs.size() != ps.continuations.size())
    throw Error(fmt::format("task {}: {} log-likelihoods for {} options of \"{}\"", name(), logprobs.size(),
                            ps.continuations.size(), doc.id));
  // lm-eval: acc = argmax of the sums; acc_norm = argmax of the sums divided by the option's
  // length in characters (delimiter excluded). Ties go to the first option, as numpy.argmax.
  size_t pred = 0, pred_norm = 0;
  double best_norm = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < logprobs.size(); ++i) {
    if (logprobs[i] > logprobs[pred]) pred = i;
    const size_t len = std::max<size_t>(1, code_points(ps.continuations[i]) - code_points(protocol_.target_delimiter));
    const double norm = logprobs[i] / double(len);
    if (norm > best_norm) {
      best_norm = norm;
      pred_norm = i;
    }
  }
  std::map<std::string, double> metrics = {{"acc", double(int64_t(pred) == ps.gold_position)},
                                           {"acc_norm", double(int64_t(pred_norm) == ps.gold_position)}};
  store::Sample s;
  s.task = name();
  s.doc_id = doc.id;
  s.repeat = ps.repeat;
  s.prompt = std::move(stored_prompt);
  const bool by_norm = protocol_.metrics.front() == "acc_norm";
  const size_t chosen = by_norm ? pred_norm : pred;
  s.output = ps.continuations[chosen];
  s.answer = ps.labels[chosen];
  s.target = ps.target;
  const auto primary = metrics.find(protocol_.metrics.front());
  if (primary == metrics.end())
    throw Error(fmt::format("task {}: log-likelihood protocols score acc or acc_norm, not \"{}\"", name(),
                            protocol_.metrics.front()));
  s.score = primary->second;
  s.extra = {{"logprobs", std::vector<double>(logprobs.begin(), logprobs.end())},
             {"greedy", std::vector<bool>(greedy.begin(), greedy.end())},
             {"continuations", ps.continuations},
             {"pred", pred},
             {"pred_norm", pred_norm},
             {"metrics", metrics}};
  return s;
}

store::Sample EvalTask::rescore(const store::Sample& stored) const {
  const auto idx = doc_index_.find(stored.doc_id);
  if (idx == doc_index_.end())
    throw Error(fmt::format("task {}: stored sample for unknown document \"{}\"", name(), stored.doc_id));
  const Doc& doc = dataset_.docs[idx->second];
  const PreparedSample ps = prepare(doc, stored.repeat);
  store::Sample s;
  if (protocol_.kind == RequestKind::generate) {
    s = score_generation(doc, ps, stored.output, stored.prompt);
  } else {
    if (!stored.extra.contains("logprobs"))
      throw Error(fmt::format("task {}: sample \"{}\" has no stored log-likelihoods", name(), stored.doc_id));
    const auto lp = stored.extra.at("logprobs").get<std::vector<double>>();
    std::vector<char> greedy(lp.size(), 0);
    if (stored.extra.contains("greedy"))
      for (size_t i = 0; i < lp.size() && i < stored.extra.at("greedy").size(); ++i)
        greedy[i] = stored.extra.at("greedy")[i].get<bool>();
    s = score_loglikelihood(doc, ps, lp, greedy, stored.prompt);
  }
  s.n_prompt_tokens = stored.n_prompt_tokens;
  s.n_output_tokens = stored.n_output_tokens;
  s.seconds = stored.seconds;
  for (const char* keep : {"finish_reason"})
    if (stored.extra.contains(keep)) s.extra[keep] = stored.extra.at(keep);
  return s;
}

namespace {
// One row per breakdown key (sorted), over the documents that count in it; bootstrapped like
// the group rows.
template <class Emit>
void emit_breakdown(const Breakdown& b, std::span<const DocResult* const> docs, const std::string& task, Emit& emit) {
  std::map<std::string, std::vector<const DocResult*>> rows;
  for (const DocResult* d : docs)
    for (const auto& key : b.keys(*d)) {
      auto& v = rows[key];
      if (v.empty() || v.back() != d) v.push_back(d);
    }
  for (const auto& [key, row_docs] : rows) {
    const Statistic stat = [&b, &key](std::span<const DocResult* const> ds) { return b.statistic(ds, key); };
    emit(task + "/" + key, row_docs, stat, false, false);
  }
}
}  // namespace

std::vector<store::Metric> EvalTask::aggregate(std::span<const store::Sample> samples) const {
  // Documents in data set order, each with its samples and per-sample metrics averaged over repeats.
  std::map<std::string, std::vector<const store::Sample*>> by_doc;
  for (const auto& s : samples)
    if (s.task == name() && find_doc(s.doc_id)) by_doc[s.doc_id].push_back(&s);
  std::vector<DocResult> results;
  for (const auto& doc : docs_) {
    auto it = by_doc.find(doc.id);
    if (it == by_doc.end()) continue;
    DocResult r;
    r.doc = &doc;
    r.samples = it->second;
    std::map<std::string, std::pair<double, int64_t>> acc;
    for (const auto* s : r.samples)
      if (s->extra.contains("metrics"))
        for (const auto& [k, v] : s->extra.at("metrics").items())
          if (v.is_number()) {
            acc[k].first += v.get<double>();
            ++acc[k].second;
          }
    for (const auto& [k, sn] : acc) r.metrics[k] = sn.first / double(sn.second);
    results.push_back(std::move(r));
  }
  std::vector<const DocResult*> all;
  for (const auto& r : results) all.push_back(&r);

  const Protocol& p = protocol_;
  // Chance level: 1 / the largest number of options in the group over the whole data set
  // (not just the documents evaluated), which gives the leaderboard's per-subtask constants
  // (BBH's fixed option lists; MuSR 2 / 5 / 3).
  std::map<std::string, size_t> most_options;
  size_t most_overall = 0;
  for (const auto& d : dataset_.docs) {
    const size_t k = choices_of(d).size();
    most_options[d.group] = std::max(most_options[d.group], k);
    most_overall = std::max(most_overall, k);
  }
  const auto chance = [&most_options, most_overall](const std::string* group) {
    const size_t k = group ? most_options[*group] : most_overall;
    return k ? 1.0 / double(k) : std::numeric_limits<double>::quiet_NaN();
  };
  const Aggregator* custom = (p.aggregation == "mean" || p.aggregation == "macro") ? nullptr
                                                                                   : &components_.aggregator(p.aggregation);
  // The task-level statistic: the aggregation, then the leaderboard normalization.
  const Statistic statistic = [&p, custom, &chance](std::span<const DocResult* const> docs) {
    std::map<std::string, double> out = custom                    ? (*custom)(docs, p)
                                        : p.aggregation == "macro" ? mean_over_groups(docs, p.metrics)
                                                                   : mean_over_docs(docs, p.metrics);
    if (p.normalization.enabled) {
      for (const auto& m : p.metrics) {
        if (p.normalization.per_group) {
          // Normalize each group against its own chance level, then average the groups.
          std::map<std::string, std::vector<const DocResult*>> groups;
          std::vector<std::string> order;
          for (const DocResult* d : docs) {
            if (!groups.count(d->doc->group)) order.push_back(d->doc->group);
            groups[d->doc->group].push_back(d);
          }
          double sum = 0;
          for (const auto& g : order) {
            const double base = p.normalization.baseline.value_or(chance(&g));
            sum += leaderboard_normalize(mean_over_docs(groups[g], {m}).at(m), base);
          }
          out[m + "_normalized"] = order.empty() ? std::numeric_limits<double>::quiet_NaN() : sum / double(order.size());
        } else if (out.count(m)) {
          const double base = p.normalization.baseline.value_or(chance(nullptr));
          out[m + "_normalized"] = leaderboard_normalize(out.at(m), base);
        }
      }
    }
    return out;
  };

  const bool stratify = p.aggregation == "macro" || p.normalization.per_group;
  const uint64_t boot_seed = sample_seed(12345, name(), p.name, 0);
  std::vector<store::Metric> out;
  auto emit = [&](const std::string& task_name, std::span<const DocResult* const> docs, const Statistic& stat,
                  bool strat, bool primary_row) {
    if (docs.empty()) return;
    const auto values = stat(docs);
    const auto cis = bootstrap(docs, stat, strat, settings_.bootstrap_resamples, boot_seed ^ fnv1a(task_name));
    int64_t n_samples = 0;
    for (const DocResult* d : docs) n_samples += int64_t(d->samples.size());
    for (const auto& [metric, value] : values) {
      store::Metric m;
      m.task = task_name;
      m.name = metric;
      m.value = value;
      m.n = int64_t(docs.size());
      if (auto it = cis.find(metric); it != cis.end()) {
        m.std_error = it->second.std_error;
        m.ci_low = it->second.low;
        m.ci_high = it->second.high;
      }
      m.details = {{"protocol", p.name}, {"n_samples", n_samples}, {"repeats", repeats_},
                   {"primary", primary_row && metric == p.primary_metric}, {"ci", "percentile bootstrap 95%"}};
      out.push_back(std::move(m));
    }
  };
  emit(name(), all, statistic, stratify, true);

  // Per-group rows (categories, subtasks), each with its own normalization when per group.
  std::vector<std::string> group_order;
  std::map<std::string, std::vector<const DocResult*>> groups;
  for (const DocResult* d : all)
    if (!d->doc->group.empty()) {
      if (!groups.count(d->doc->group)) group_order.push_back(d->doc->group);
      groups[d->doc->group].push_back(d);
    }
  if (!custom && groups.size() > 1)
    for (const auto& g : group_order) {
      const double base = p.normalization.baseline.value_or(chance(&g));
      const Statistic group_stat = [&p, base](std::span<const DocResult* const> docs) {
        auto out = mean_over_docs(docs, p.metrics);
        if (p.normalization.enabled && p.normalization.per_group)
          for (const auto& m : p.metrics) out[m + "_normalized"] = leaderboard_normalize(out.at(m), base);
        return out;
      };
      emit(name() + "/" + g, groups[g], group_stat, false, false);
    }
  if (const Breakdown* b = custom ? components_.breakdown(p.aggregation) : nullptr) emit_breakdown(*b, all, name(), emit);

  // How often no answer could be extracted (generation only).
  if (p.kind == RequestKind::generate && !all.empty()) {
    int64_t missing = 0, total = 0;
    for (const DocResult* d : all)
      for (const auto* s : d->samples) {
        ++total;
        missing += !s->answer.has_value();
      }
    store::Metric m;
    m.task = name();
    m.name = "answer_not_found";
    m.value = double(missing);
    m.n = total;
    m.details = {{"protocol", p.name}, {"rate", double(missing) / double(total)}, {"primary", false}};
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace scout::harness
