#pragma once
// NLTK's Punkt sentence tokenizer with its pretrained English parameters, as nltk 3.10.4 runs it
// (`nltk.sent_tokenize` / `nltk.data.load("tokenizers/punkt/english.pickle")`, which both resolve
// to PunktTokenizer("english") over punkt_tab). Only tokenization is ported, not training.
#include <cstddef>
#include <utility>
#include <vector>

#include "tasks/ifeval/unicode.h"

namespace scout::tasks::ifeval {

// [start, end) code-point spans of the sentences, after Punkt's boundary realignment, exactly as
// PunktSentenceTokenizer.span_tokenize yields them (an empty span can occur, as in nltk).
std::vector<std::pair<std::size_t, std::size_t>> punkt_sentence_spans(py::TextView text);

// len(tokenizer.tokenize(text)): what lm-eval's instructions_util.count_sentences returns.
std::size_t count_sentences(py::TextView text);

}  // namespace scout::tasks::ifeval
