#pragma once
// The data set loaders protocols name ("dataset": {"loader": ..., arguments}), and the helpers
// they share. Each loader reads the original files under the data directory, and accepts the
// Hugging Face schema of the same data exported as JSON/JSONL/CSV (see docs/TASKS.md).
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/data/dataset_files.h"
#include "harness/task.h"

namespace scout::tasks {

// A place a data file may be: a file (relative to the data directory), or an entry inside a
// zip file (with its password when encrypted).
struct DataSource {
  std::string file;
  std::string entry;
  std::string password;
};
// Records of the first candidate that exists; throws naming every candidate when none does.
nlohmann::json read_first(harness::DataDir& data, const std::vector<DataSource>& candidates, std::string_view what);

// Python literal of a list of strings ("['a', \"b's\"]"), as MuSR's `choices` column holds.
std::vector<std::string> parse_python_string_list(std::string_view text);

// A BBH cot-prompts file: the task description and the exemplars (question, reasoning, answer).
struct CotPrompt {
  std::string description;
  struct Exemplar {
    std::string input;   // the text after "Q: "
    std::string cot;     // the reasoning after "A: Let's think step by step.\n"
    std::string target;  // X of the final "So the answer is X."
  };
  std::vector<Exemplar> exemplars;
};
CotPrompt parse_cot_prompt(std::string_view file_text);

// lm-eval leaderboard GPQA's preprocess(): strip, " [title]" -> ". ", drop "[...]", one pass
// of "  " -> " ".
std::string gpqa_leaderboard_preprocess(std::string text);

// The MuSR copy's seed-42 shuffle undone: result[shuffled position] = original HF row index.
std::vector<int64_t> musr_original_order(int64_t n);

void register_mmlu_pro(harness::Components& c);
void register_gpqa(harness::Components& c);
void register_bbh(harness::Components& c);
void register_musr(harness::Components& c);
void register_competition_math(harness::Components& c);  // math500, math_hard, aime
void register_ifeval(harness::Components& c);            // loader, scorer and aggregator

}  // namespace scout::tasks
