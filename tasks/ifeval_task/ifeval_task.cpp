// IFEval as a task: the input_data.jsonl prompts, the 25 instruction checkers of tasks/ifeval
// (owned there) as the scorer, and lm-eval's four accuracies plus the leaderboard's mean of
// the two strict ones as the aggregation.
#include <fmt/format.h>

#include "engine/util/error.h"
#include "tasks/ifeval/ifeval.h"
#include "tasks/loaders.h"

namespace scout::tasks {
namespace {

harness::Dataset load(harness::DataDir& data, const nlohmann::json&) {
  const auto rows = read_first(data, {{"ifeval/input_data.jsonl", "", ""}, {"ifeval/ifeval_input_data.jsonl", "", ""}},
                               "IFEval");
  harness::Dataset ds;
  for (const auto& r : rows) {
    try {
      (void)ifeval::parse_row(r);  // every checker must build before the run starts
    } catch (const std::exception& e) {
      throw Error(fmt::format("IFEval row {}: {}", r.value("key", int64_t(-1)), e.what()));
    }
    harness::Doc d;
    d.id = std::to_string(r.at("key").get<int64_t>());
    d.fields = {{"prompt", r.at("prompt")}, {"row", r}};
    ds.docs.push_back(std::move(d));
  }
  return ds;
}

harness::SampleScore score(const harness::ScoreContext& ctx, const std::optional<std::string>&, std::string_view output) {
  const auto row = ifeval::parse_row(ctx.doc.fields.at("row"));
  const auto v = ifeval::evaluate(row, output);
  harness::SampleScore s;
  double strict = 0, loose = 0;
  nlohmann::json inst = nlohmann::json::array();
  for (const auto& i : v.instructions) {
    strict += i.strict;
    loose += i.loose;
    inst.push_back({{"id", i.id}, {"strict", i.strict}, {"loose", i.loose}});
  }
  const double n = double(std::max<size_t>(1, v.instructions.size()));
  s.metrics = {{"prompt_level_strict_acc", double(v.prompt_strict)},
               {"prompt_level_loose_acc", double(v.prompt_loose)},
               {"inst_level_strict_acc", strict / n},
               {"inst_level_loose_acc", loose / n}};
  s.extra = {{"instructions", inst}, {"prompt_strict", v.prompt_strict}, {"prompt_loose", v.prompt_loose}};
  return s;
}

// lm-eval: prompt-level accuracies are means over prompts, instruction-level ones over all
// instructions of all prompts (not a mean of per-prompt fractions).
std::map<std::string, double> aggregate(std::span<const harness::DocResult* const> docs, const harness::Protocol&) {
  std::vector<ifeval::RowVerdict> verdicts;
  for (const harness::DocResult* d : docs) {
    if (d->samples.empty()) continue;
    const auto& extra = d->samples.front()->extra;
    ifeval::RowVerdict v;
    v.prompt_strict = extra.at("prompt_strict").get<bool>();
    v.prompt_loose = extra.at("prompt_loose").get<bool>();
    for (const auto& i : extra.at("instructions"))
      v.instructions.push_back({i.at("id").get<std::string>(), i.at("strict").get<bool>(), i.at("loose").get<bool>()});
    verdicts.push_back(std::move(v));
  }
  if (verdicts.empty()) return {};
  const auto m = ifeval::aggregate(verdicts);
  return {{"prompt_level_strict_acc", m.prompt_level_strict_acc},
          {"inst_level_strict_acc", m.inst_level_strict_acc},
          {"prompt_level_loose_acc", m.prompt_level_loose_acc},
          {"inst_level_loose_acc", m.inst_level_loose_acc},
          {"prompt_inst_strict_mean", m.leaderboard_score}};
}

// The per-instruction-type rows of the report: instruction-level accuracies over the
// instructions of one type (a prompt may hold several types).
std::vector<std::string> instruction_types(const harness::DocResult& d) {
  std::vector<std::string> out;
  if (d.samples.empty()) return out;
  for (const auto& i : d.samples.front()->extra.at("instructions")) out.push_back(i.at("id").get<std::string>());
  return out;
}

std::map<std::string, double> instruction_type_accuracy(std::span<const harness::DocResult* const> docs,
                                                        const std::string& type) {
  double strict = 0, loose = 0, n = 0;
  for (const harness::DocResult* d : docs) {
    if (d->samples.empty()) continue;
    for (const auto& i : d->samples.front()->extra.at("instructions"))
      if (i.at("id").get<std::string>() == type) {
        strict += i.at("strict").get<bool>();
        loose += i.at("loose").get<bool>();
        ++n;
      }
  }
  if (n == 0) return {};
  return {{"inst_level_strict_acc", strict / n}, {"inst_level_loose_acc", loose / n}};
}

}  // namespace

void register_ifeval(harness::Components& c) {
  c.add_loader("ifeval", load);
  c.add_scorer("ifeval", score);
  c.add_aggregator("ifeval", aggregate);
  c.add_breakdown("ifeval", {instruction_types, instruction_type_accuracy});
}

}  // namespace scout::tasks
