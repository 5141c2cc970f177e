// scout-eval tokenize: the ids of a whole text file, space-separated on one line (for
// comparing tokenizers with other engines).
#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"

namespace scout::cli {

void add_tokenize(CLI::App& app, Action& run) {
  auto* cmd = app.add_subcommand("tokenize", "Print the token ids of a text file on one line");
  auto model = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto no_bos = std::make_shared<bool>(false);
  auto no_special = std::make_shared<bool>(false);
  cmd->add_option("--model", *model, "GGUF with the tokenizer")->required();
  cmd->add_option("--text-file", *file, "UTF-8 text (read whole, as bytes)")->required();
  cmd->add_flag("--no-bos", *no_bos, "Do not add BOS even when the vocabulary asks for it");
  cmd->add_flag("--no-parse-special", *no_special, "Treat special-token text as plain text");
  cmd->callback([&run, model, file, no_bos, no_special] {
    run = [model, file, no_bos, no_special] {
      const auto tok = tok::Tokenizer::load(*model);
      std::ifstream in(*file, std::ios::binary);
      if (!in) throw Error(*file + ": cannot open");
      std::stringstream text;
      text << in.rdbuf();
      const bool bos = tok.vocab().add_bos && !*no_bos;
      const auto ids = tok.encode(text.str(), bos, !*no_special);
      fmt::print("{}\n", fmt::join(ids, " "));
      return 0;
    };
  });
}

}  // namespace scout::cli
