#pragma once
// The store's record of a model file (models add, run, compare-quant all make it the same way).
#include <string>

#include "harness/store/store.h"

namespace scout::cli {

// Identity (sha256 of the whole file, which takes a while for a large model: a line on stderr
// says so), absolute path, size, architecture, file type, scalar metadata and, when the engine
// knows the architecture, the parameter count.
store::Model describe_model_file(const std::string& path);

}  // namespace scout::cli
