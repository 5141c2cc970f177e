// GPQA (Rein et al. 2023): the password-protected dataset.zip of the authors' repository,
// read in memory with the password its README publishes; or a CSV of the same columns (the
// Hugging Face Idavidrein/gpqa files).
#include <fmt/format.h>
#include <re2/re2.h>

#include "engine/util/error.h"
#include "tasks/loaders.h"

namespace scout::tasks {
namespace {

// Published in the upstream README so that the questions stay out of web crawls; it is not a
// secret, and nothing decrypted with it is ever written to disk.
constexpr const char* kZipPassword = "deserted-untie-orchid";

}  // namespace

std::string gpqa_leaderboard_preprocess(std::string text) {
  const size_t b = text.find_first_not_of(" \t\n\r\f\v");
  const size_t e = text.find_last_not_of(" \t\n\r\f\v");
  text = b == std::string::npos ? "" : text.substr(b, e - b + 1);
  size_t at;
  while ((at = text.find(" [title]")) != std::string::npos) text.replace(at, 8, ". ");
  static const RE2 brackets(R"(\[.*?\])");
  RE2::GlobalReplace(&text, brackets, "");
  // Python's str.replace("  ", " ") is a single left-to-right pass.
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ' ' && i + 1 < text.size() && text[i + 1] == ' ') {
      out += ' ';
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

namespace {

harness::Dataset load(harness::DataDir& data, const nlohmann::json& args) {
  const std::string subset = args.value("subset", std::string("diamond"));
  if (subset != "diamond" && subset != "main" && subset != "extended")
    throw Error("gpqa loader: subset must be diamond, main or extended");
  const std::string base = args.value("choice_base", std::string("correct_first"));
  if (base != "correct_first" && base != "correct_last")
    throw Error("gpqa loader: choice_base must be correct_first or correct_last");
  const bool preprocess = args.value("preprocess", false);
  const std::string csv = "gpqa_" + subset + ".csv";
  const auto rows = read_first(
      data, {{"gpqa/dataset.zip", "dataset/" + csv, kZipPassword}, {"gpqa/" + csv, "", ""}}, "GPQA " + subset);
  harness::Dataset ds;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    auto field = [&](const char* k) {
      if (!r.contains(k)) throw Error(fmt::format("GPQA {} row {}: no column \"{}\"", subset, i, k));
      std::string v = r.at(k).get<std::string>();
      return preprocess ? gpqa_leaderboard_preprocess(v) : v;
    };
    std::vector<std::string> incorrect = {field("Incorrect Answer 1"), field("Incorrect Answer 2"),
                                          field("Incorrect Answer 3")};
    const std::string correct = field("Correct Answer");
    std::vector<std::string> choices;
    int64_t gold;
    if (base == "correct_first") {  // simple-evals: [Correct, Incorrect 1, 2, 3]
      choices = {correct, incorrect[0], incorrect[1], incorrect[2]};
      gold = 0;
    } else {  // lm-eval leaderboard: [Incorrect 1, 2, 3, Correct]
      choices = {incorrect[0], incorrect[1], incorrect[2], correct};
      gold = 3;
    }
    harness::Doc d;
    d.id = std::to_string(i);
    d.group = r.value("High-level domain", std::string());
    d.fields = {{"question", r.at("Question")},
                {"choices", choices},
                {"gold", gold},
                {"record_id", r.value("Record ID", std::string())},
                {"subdomain", r.value("Subdomain", std::string())}};
    ds.docs.push_back(std::move(d));
  }
  ds.info = {{"subset", subset}, {"docs", ds.docs.size()}};
  return ds;
}

}  // namespace

void register_gpqa(harness::Components& c) { c.add_loader("gpqa", load); }

}  // namespace scout::tasks
