#pragma once
// Where tests find the repository, scratch space and the cached real model.
#include <filesystem>
#include <string>

namespace scout::test {
std::filesystem::path source_dir();
// A fresh, empty directory under the build tree for this test.
std::filesystem::path scratch_dir(const std::string& name);
// The SmolLM2-135M-Instruct Q4_1 GGUF fetched by scripts/setup.sh (env SCOUT_SMOLLM2 overrides).
// Empty when it is not there; tests that need it skip with GTEST_SKIP.
std::filesystem::path smollm2_path();
// The shared real datasets (../shared/datasets beside the checkout; env SCOUT_DATA_DIR overrides).
std::filesystem::path datasets_dir();
}  // namespace scout::test
