// MuSR (Sprague et al. 2024), the Hugging Face TAUR-Lab/MuSR rows: narrative, question,
// choices (a Python list literal), answer_index, answer_choice; three splits used as subtasks.
//
// Sources, first found wins:
//  1. musr/<subtask>.jsonl | .json | .csv — the HF split exported as is, in HF order;
//  2. the copy in ../shared/datasets/musr: <subtask>_{train,val,test}.json, which together hold
//     the split shuffled with random.Random(42); the shuffle is undone (PyRandom) so document
//     ids are HF row indices.
#include <fmt/format.h>

#include "engine/util/error.h"
#include "tasks/loaders.h"

namespace scout::tasks {
namespace {

nlohmann::json hf_order_rows(harness::DataDir& data, const std::string& name, std::string& how) {
  for (const char* ext : {".jsonl", ".json", ".csv"}) {
    const std::string f = "musr/" + name + ext;
    if (data.exists(f)) {
      how = f;
      return data.records(f);
    }
  }
  nlohmann::json shuffled = nlohmann::json::array();
  for (const char* split : {"train", "val", "test"}) {
    const std::string f = fmt::format("musr/{}_{}.json", name, split);
    if (!data.exists(f))
      throw Error(fmt::format("MuSR {}: neither musr/{}.jsonl (HF export) nor {} under {}", name, name, f,
                              data.root().string()));
    for (auto& r : data.records(f)) shuffled.push_back(std::move(r));
  }
  const auto original = musr_original_order(int64_t(shuffled.size()));
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < shuffled.size(); ++i) rows.push_back(nullptr);
  for (size_t p = 0; p < shuffled.size(); ++p) rows[size_t(original[p])] = std::move(shuffled[p]);
  how = fmt::format("musr/{}_{{train,val,test}}.json, Random(42) shuffle undone", name);
  return rows;
}

harness::Dataset load(harness::DataDir& data, const nlohmann::json& args) {
  harness::Dataset ds;
  ds.info["sources"] = nlohmann::json::object();
  for (const auto& name : args.at("subtasks").get<std::vector<std::string>>()) {
    std::string how;
    const auto rows = hf_order_rows(data, name, how);
    ds.info["sources"][name] = how;
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      const auto& c = r.at("choices");
      const auto choices = c.is_string() ? parse_python_string_list(c.get<std::string>()) : c.get<std::vector<std::string>>();
      // The CSV export holds answer_index as text.
      const auto& ai = r.at("answer_index");
      const int64_t gold = ai.is_string() ? std::stoll(ai.get<std::string>()) : ai.get<int64_t>();
      if (gold < 0 || gold >= int64_t(choices.size()))
        throw Error(fmt::format("MuSR {} row {}: answer_index {} outside {} choices", name, i, gold, choices.size()));
      harness::Doc d;
      d.id = fmt::format("{}/{}", name, i);
      d.group = name;
      d.fields = {{"narrative", r.at("narrative")}, {"question", r.at("question")}, {"choices", choices}, {"gold", gold}};
      ds.docs.push_back(std::move(d));
    }
  }
  return ds;
}

}  // namespace

void register_musr(harness::Components& c) { c.add_loader("musr", load); }

}  // namespace scout::tasks
