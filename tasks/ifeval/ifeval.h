#pragma once
// IFEval (Zhou et al. 2023) scoring, faithful to lm-eval's lm_eval/tasks/ifeval (0.4.13):
// 25 verifiable-instruction checkers, strict and loose verdicts, and the four accuracies.
// See docs/IFEVAL.md for the reference's quirks that are reproduced on purpose.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <istream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/ifeval/checkers.h"

namespace scout::tasks::ifeval {

struct Instruction {
  std::string id;          // e.g. "keywords:frequency"
  nlohmann::json kwargs;   // as given in the data set
  CheckFn check;           // check_following with those kwargs bound
};

// One line of input_data.jsonl.
struct Row {
  std::int64_t key = 0;
  std::string prompt;
  std::vector<Instruction> instructions;
};

struct InstructionVerdict {
  std::string id;
  bool strict = false;
  bool loose = false;
};

struct RowVerdict {
  std::int64_t key = 0;
  std::vector<InstructionVerdict> instructions;
  bool prompt_strict = false;  // every instruction followed (strict)
  bool prompt_loose = false;
};

struct InstructionTypeStats {
  std::size_t n = 0;
  double strict_acc = 0.0;
  double loose_acc = 0.0;
};

struct Metrics {
  std::size_t n_prompts = 0;
  std::size_t n_instructions = 0;
  double prompt_level_strict_acc = 0.0;
  double inst_level_strict_acc = 0.0;
  double prompt_level_loose_acc = 0.0;
  double inst_level_loose_acc = 0.0;
  double leaderboard_score = 0.0;  // mean(prompt_level_strict_acc, inst_level_strict_acc)
  std::map<std::string, InstructionTypeStats> by_instruction;
};

// Parses {"key", "prompt", "instruction_id_list", "kwargs"}; builds every checker, so an
// unknown id or malformed kwargs throws IfevalError here rather than while scoring.
Row parse_row(const nlohmann::json& row);

// Loads a JSONL file of rows (input_data.jsonl). Throws IfevalError naming the line on error.
std::vector<Row> load_rows(const std::filesystem::path& path);

// The loose variants of a response, in the reference's order: as is, without '*', without the
// first line, the last line, both, and those three without '*'.
std::vector<std::string> loose_variants(std::string_view response);

// Strict: the response (non-blank) follows the instruction. Loose: any variant does.
RowVerdict evaluate(const Row& row, std::string_view response);

Metrics aggregate(const std::vector<RowVerdict>& verdicts);

// Scores a predictions JSONL ({"doc_id": key, "response": text} per line) against `rows`.
// Returns {"task", "n", "missing", "metrics": {name: value}, "instructions": {id: {n,
// strict_acc, loose_acc}}, "samples": [{doc_id, prompt_strict, prompt_loose, instructions:
// [{id, strict, loose}]}]}. Rows without a prediction are listed under "missing_doc_ids" and
// left out of the metrics; an unknown or repeated doc_id throws IfevalError.
nlohmann::json score_predictions(const std::vector<Row>& rows, std::istream& predictions);
nlohmann::json score_predictions(const std::vector<Row>& rows, const std::filesystem::path& predictions);

}  // namespace scout::tasks::ifeval
