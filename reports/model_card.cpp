#include "reports/model_card.h"

namespace scout::reports {

const std::vector<CardRow>& scout_card() {
  // Tasks are filled in as they land; an empty task is reported as "not yet available".
  // "AA Math" is AIME 2025 alone since AA's Math Index v3, so it is measured by the same task.
  static const std::vector<CardRow> kRows = {
      {"Arena Elo", 1491, "-", "LMArena; not traceable to Scout, treat as unverified", ""},
      {"MATH-500", 84.4, "artificial-analysis", "Artificial Analysis (0-shot CoT, equality checker)", "math500"},
      {"MMLU-Pro", 74.3, "meta-card", "Meta card: 0-shot CoT, macro average", "mmlu_pro"},
      {"MMMU", 73.4, "meta-card", "Meta card — but 73.4 is Maverick's; Scout's is 69.4 (image benchmark)", ""},
      {"GPQA Diamond", 58.7, "artificial-analysis", "Artificial Analysis (0-shot CoT, `Answer: X`)", "gpqa_diamond"},
      {"GPQA", 57.2, "meta-card", "Meta card's GPQA Diamond (0-shot CoT)", "gpqa_diamond"},
      {"IFEval", 54.8, "open-llm-leaderboard-v2", "leaderboard-v2 style (mean of prompt- and instruction-strict)", "ifeval"},
      {"BBH", 51.4, "open-llm-leaderboard-v2", "leaderboard-v2 normalized (24 MC subtasks, 3-shot, acc_norm)", "bbh"},
      {"LiveCodeBench", 29.9, "artificial-analysis", "Artificial Analysis (pass@1; Meta reports 32.8 on 10/2024–02/2025)", ""},
      {"MATH", 21.8, "open-llm-leaderboard-v2", "leaderboard-v2 MATH Lvl 5 (4-shot Minerva, exact match)", "math_hard"},
      {"MuSR", 20.8, "open-llm-leaderboard-v2", "leaderboard-v2 normalized (acc_norm)", "musr"},
      {"AIME", 14.0, "artificial-analysis", "Artificial Analysis, AIME 2025", "aime25"},
      {"AA Math", 14.0, "artificial-analysis", "AA Math Index (v3+: AIME 2025 alone)", "aime25"},
      {"AA Intelligence", 13.5, "artificial-analysis", "AA Intelligence Index v4.0 (10 evals; many not public)", ""},
      {"AA Coding", 6.7, "artificial-analysis", "AA Coding Index v4.0 (Terminal-Bench Hard + SciCode)", ""},
      {"HLE", 4.3, "artificial-analysis", "Artificial Analysis, text questions, judge model", ""},
  };
  return kRows;
}

}  // namespace scout::reports
