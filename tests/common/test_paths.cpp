#include "common/test_paths.h"

#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace fs = std::filesystem;

namespace scout::test {
fs::path source_dir() { return fs::path(SCOUT_SOURCE_DIR); }

namespace {
// CTest runs each test in its own process, several at once: every process gets its own
// scratch directories (named by pid), removed when the process exits.
struct ScratchDirs {
  std::vector<fs::path> made;
  ~ScratchDirs() {
    std::error_code ec;
    for (const auto& d : made) fs::remove_all(d, ec);
  }
};
ScratchDirs& scratch_dirs() {
  static ScratchDirs dirs;
  return dirs;
}
}  // namespace

fs::path scratch_dir(const std::string& name) {
  fs::path dir = fs::path(SCOUT_BINARY_DIR) / "test-scratch" / (name + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  scratch_dirs().made.push_back(dir);
  return dir;
}

fs::path smollm2_path() {
  if (const char* env = std::getenv("SCOUT_SMOLLM2")) return fs::path(env);
  fs::path p = source_dir() / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf";
  return fs::exists(p) ? p : fs::path();
}

fs::path datasets_dir() {
  if (const char* env = std::getenv("SCOUT_DATA_DIR")) return fs::path(env);
  return source_dir().parent_path() / "shared" / "datasets";
}
}  // namespace scout::test
