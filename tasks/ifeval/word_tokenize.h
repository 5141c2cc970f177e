#pragma once
// Word splitting as the IFEval reference does it.
#include <cstddef>
#include <vector>

#include "tasks/ifeval/unicode.h"

namespace scout::tasks::ifeval {

// nltk.word_tokenize(text): Punkt sentences, then NLTKWordTokenizer (the improved Treebank
// tokenizer) on each. Used by change_case:capital_word_frequency.
std::vector<py::Text> nltk_word_tokenize(py::TextView text);

// NLTKWordTokenizer().tokenize(sentence) alone.
std::vector<py::Text> treebank_tokenize(py::TextView sentence);

// lm-eval's count_words: nltk RegexpTokenizer(r"\w+") (regex-module \w), i.e. maximal \w runs.
std::size_t count_words(py::TextView text);

}  // namespace scout::tasks::ifeval
