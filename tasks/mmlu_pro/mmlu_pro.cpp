// MMLU-Pro (TIGER-Lab): 12,032 test questions with up to 10 options in 14 categories, and a
// 70-question validation split (5 per category) used for few-shot examples.
#include <fmt/format.h>

#include "engine/util/error.h"
#include "tasks/loaders.h"

namespace scout::tasks {
namespace {

std::vector<harness::Doc> to_docs(const nlohmann::json& rows, std::string_view split) {
  std::vector<harness::Doc> docs;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    harness::Doc d;
    d.id = std::to_string(i);  // the row index: MMLU-Pro's question_id is kept as a field
    d.group = r.at("category").get<std::string>();
    const auto options = r.at("options").get<std::vector<std::string>>();
    const int64_t gold = r.at("answer_index").get<int64_t>();
    if (gold < 0 || gold >= int64_t(options.size()))
      throw Error(fmt::format("MMLU-Pro {} row {}: answer_index {} outside {} options", split, i, gold, options.size()));
    d.fields = {{"question", r.at("question")},
                {"choices", options},
                {"gold", gold},
                {"question_id", r.at("question_id")},
                {"category", d.group},
                {"cot_content", r.value("cot_content", std::string())},
                {"src", r.value("src", std::string())}};
    docs.push_back(std::move(d));
  }
  return docs;
}

harness::Dataset load(harness::DataDir& data, const nlohmann::json& args) {
  const std::string zip = "mmlu_pro/local_250825.zip";
  harness::Dataset ds;
  ds.docs = to_docs(read_first(data,
                               {{zip, "local_250825/mmlu_pro_test_data.json", ""},
                                {"mmlu_pro/test.jsonl", "", ""},
                                {"mmlu_pro/test.json", "", ""}},
                               "MMLU-Pro test split"),
                    "test");
  const std::string val = args.value("validation", std::string("local_250825"));
  std::vector<DataSource> val_sources;
  if (val == "local_260118") val_sources.push_back({"mmlu_pro/local_260118/mmlu_pro_val_data.json", "", ""});
  val_sources.push_back({zip, "local_250825/mmlu_pro_val_data.json", ""});
  val_sources.push_back({"mmlu_pro/validation.jsonl", "", ""});
  val_sources.push_back({"mmlu_pro/validation.json", "", ""});
  ds.shots = to_docs(read_first(data, val_sources, "MMLU-Pro validation split"), "validation");
  ds.info = {{"docs", ds.docs.size()}, {"shots", ds.shots.size()}};
  return ds;
}

}  // namespace

void register_mmlu_pro(harness::Components& c) { c.add_loader("mmlu_pro", load); }

}  // namespace scout::tasks
