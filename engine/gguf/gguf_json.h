#pragma once
// GGUF metadata as JSON, for `inspect --json` and the store's models table.
#include <nlohmann/json.hpp>

#include "engine/gguf/gguf.h"

namespace scout::gguf {
nlohmann::json value_json(const Value& v);
// Every key; arrays longer than `max_array_items` (the tokenizer's) become {array_of, count}.
nlohmann::json metadata_json(const File& f, size_t max_array_items = 64);
}  // namespace scout::gguf
