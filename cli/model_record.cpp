#include "cli/model_record.h"

#include <fmt/format.h>

#include <filesystem>

#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_json.h"
#include "engine/model/hparams.h"
#include "engine/quant/file_type.h"
#include "engine/util/error.h"
#include "engine/util/sha256.h"

namespace scout::cli {

store::Model describe_model_file(const std::string& path) {
  auto f = gguf::File::open(path);
  store::Model m;
  m.path = std::filesystem::absolute(path).string();
  fmt::print(stderr, "hashing {}...\n", path);
  m.sha256 = sha256_file_hex(path);
  m.file_size = int64_t(f->file_size());
  m.arch = f->architecture();
  m.file_type = f->find("general.file_type") ? quant::file_type_name(f->get_int("general.file_type")) : "unknown";
  m.metadata = gguf::metadata_json(*f, 0);  // scalars only: tokenizer arrays stay in the file
  try {
    m.n_params = model::load_hparams(*f).n_params();
  } catch (const Error&) {
    // Not an architecture the engine runs: recorded without a parameter count.
  }
  return m;
}

}  // namespace scout::cli
