// BIG-Bench Hard (Suzgun et al. 2022): bbh/<subtask>.json test examples and the 3-shot
// cot-prompts/<subtask>.txt exemplars of the authors' repository (also the Hugging Face
// lukaemon/bbh or SaylorTwift/bbh rows exported as bbh/<subtask>.json(l)).
//
// Loader arguments: "subtasks": [{"name": ..., "choices": [...]}, ...] — with fixed option lists
// the subtasks are multiple choice (the Open LLM Leaderboard's 24), without them free-form
// (the paper's exact match over the CoT answer).
#include <fmt/format.h>

#include "engine/util/error.h"
#include "tasks/loaders.h"

namespace scout::tasks {
namespace {

std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  const size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

int64_t index_of(const std::vector<std::string>& choices, const std::string& target) {
  for (size_t i = 0; i < choices.size(); ++i)
    if (choices[i] == target) return int64_t(i);
  return -1;  // lm-eval scores such a document as wrong whatever the model picks
}

}  // namespace

CotPrompt parse_cot_prompt(std::string_view text) {
  // Line 1: the canary; line 2: "-----"; line 3: the description; then "Q: ..." exemplars
  // separated by blank lines.
  CotPrompt p;
  size_t pos = 0;
  for (int skip = 0; skip < 2; ++skip) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) throw Error("cot prompt: fewer than three lines");
    pos = nl + 1;
  }
  const size_t desc_end = text.find('\n', pos);
  p.description = trim(text.substr(pos, desc_end - pos));
  std::string_view rest = desc_end == std::string_view::npos ? "" : text.substr(desc_end + 1);
  static constexpr std::string_view kA = "\nA: Let's think step by step.";
  size_t q = rest.find("Q: ");
  while (q != std::string_view::npos) {
    size_t next = rest.find("\n\nQ: ", q);
    const std::string_view block = rest.substr(q, next == std::string_view::npos ? std::string_view::npos : next - q);
    const size_t a = block.find(kA);
    if (a == std::string_view::npos) throw Error("cot prompt: an exemplar has no \"A: Let's think step by step.\"");
    CotPrompt::Exemplar e;
    e.input = std::string(block.substr(3, a - 3));
    e.cot = trim(block.substr(a + kA.size()));
    const size_t so = e.cot.rfind("So the answer is ");
    if (so == std::string::npos) throw Error("cot prompt: an exemplar has no \"So the answer is\"");
    e.target = trim(e.cot.substr(so + 17));
    if (!e.target.empty() && e.target.back() == '.') e.target.pop_back();
    p.exemplars.push_back(std::move(e));
    q = next == std::string_view::npos ? next : next + 2;
  }
  return p;
}

namespace {

harness::Dataset load(harness::DataDir& data, const nlohmann::json& args) {
  harness::Dataset ds;
  if (!args.contains("subtasks") || !args.at("subtasks").is_array())
    throw Error("bbh loader: \"subtasks\" must list the subtasks");
  for (const auto& st : args.at("subtasks")) {
    const std::string name = st.at("name").get<std::string>();
    const bool mc = st.contains("choices");
    const auto choices = mc ? st.at("choices").get<std::vector<std::string>>() : std::vector<std::string>{};
    const auto rows = read_first(data, {{"bbh/bbh/" + name + ".json", "", ""}, {"bbh/" + name + ".json", "", ""},
                                        {"bbh/" + name + ".jsonl", "", ""}},
                                 "BBH " + name);
    const std::string prompt_file = "bbh/cot-prompts/" + name + ".txt";
    const CotPrompt cot = parse_cot_prompt(data.read(prompt_file));
    auto make = [&](std::string id, const std::string& input, const std::string& target, const std::string& cot_text) {
      harness::Doc d;
      d.id = std::move(id);
      d.group = name;
      d.fields = {{"input", input}, {"target", target}, {"description", cot.description}, {"cot", cot_text}};
      if (mc) {
        d.fields["choices"] = choices;
        d.fields["gold"] = index_of(choices, target);
      } else {
        d.fields["answer"] = target;
      }
      return d;
    };
    for (size_t i = 0; i < rows.size(); ++i)
      ds.docs.push_back(make(fmt::format("{}/{}", name, i), rows[i].at("input").get<std::string>(),
                             rows[i].at("target").get<std::string>(), ""));
    for (size_t i = 0; i < cot.exemplars.size(); ++i) {
      const auto& e = cot.exemplars[i];
      ds.shots.push_back(make(fmt::format("{}/shot{}", name, i), e.input, e.target, e.cot));
    }
  }
  ds.info = {{"docs", ds.docs.size()}, {"shots", ds.shots.size()}};
  return ds;
}

}  // namespace

void register_bbh(harness::Components& c) { c.add_loader("bbh", load); }

}  // namespace scout::tasks
