#pragma once
// Final-answer extraction from model responses, following the reference harnesses:
//  - lm-eval minerva_math: last_boxed_only_string / remove_boxed and the
//    "Final Answer: The final answer is X. I hope it is correct." line;
//  - simple-evals math: the "Answer: X" line (pattern (?i)Answer\s*:\s*([^\n]+));
//  - AIME: an integer answer.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scout::tasks::math {

// lm-eval's last_boxed_only_string: the last "\boxed{...}" (or "\fbox{...}" when there is
// no \boxed) including the command, with balanced braces. Like the reference, a response
// containing "\boxed " (with a space) yields "\boxed " + the text after the last such
// occurrence up to the next '$'. nullopt where the reference returns None.
std::optional<std::string> last_boxed_only_string(std::string_view text);

// lm-eval's remove_boxed: "\boxed{X}" -> "X", "\boxed X" -> "X". nullopt where the
// reference would fail its assertion (e.g. an "\fbox{...}" argument).
std::optional<std::string> remove_boxed(std::string_view boxed);

// Content of the last \boxed{...} or \fbox{...} (whichever comes last), braces balanced,
// whitespace allowed between the command and '{'. nullopt if none or unbalanced.
std::optional<std::string> extract_last_boxed(std::string_view text);

// What lm-eval's get_unnormalized_answer returns instead of an answer.
inline constexpr std::string_view kInvalidAnswer = "[invalidanswer]";

// Minerva: X from "Final Answer: The final answer is X. I hope it is correct." (first
// occurrence, as re.search; the closing sentence may be missing at the end of the text).
// X is whitespace-trimmed. nullopt where lm-eval returns "[invalidanswer]".
std::optional<std::string> extract_minerva_answer(std::string_view text);

enum class Occurrence { kFirst, kLast };

// simple-evals: the rest of the line after "Answer:" (case-insensitive, spaces allowed
// around the colon). simple-evals itself takes the first match (re.search); the harness
// default is the last one, since a response may restate the format before answering.
std::optional<std::string> extract_answer_line(std::string_view text,
                                               Occurrence which = Occurrence::kLast);

// AIME: the integer answer of a response. Tries, in order, the last \boxed{}, the last
// "Answer:" line, the Minerva final-answer sentence, then the last integer in the text.
// A candidate counts when, after dropping $, \text{}/\mathbf{} wrappers, spaces, thousands
// commas, a leading "x =" and a trailing '.', it is a plain integer ("025" -> 25).
std::optional<std::int64_t> extract_aime_integer(std::string_view text);

}  // namespace scout::tasks::math
