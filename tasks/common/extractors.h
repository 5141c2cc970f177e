#pragma once
// The answer extractors protocols name ("extractor": {"name": ..., arguments}):
//   none          the whole response, trimmed (IFEval scores the response itself)
//   regex         {"pattern": RE2 pattern with one capture group, "occurrence": "first"|"last"}
//   after_phrase  {"phrase": "the answer is ", "occurrence": ...}: the rest of that line, one
//                 trailing '.' dropped (BBH chain-of-thought)
//   last_boxed    the content of the last \boxed{} / \fbox{}
//   answer_line   simple-evals math: the rest of the line after "Answer:" ({"occurrence"})
//   minerva       the X of "Final Answer: The final answer is X. I hope it is correct."
//   aime_integer  an integer answer: last \boxed, "Answer:" line, Minerva sentence, last integer
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "harness/task.h"

namespace scout::tasks {

std::optional<std::string> extract_regex(std::string_view text, std::string_view pattern, bool last);
std::optional<std::string> extract_after_phrase(std::string_view text, std::string_view phrase, bool last);

void register_extractors(harness::Components& c);

}  // namespace scout::tasks
