// scout-eval serve: an OpenAI-compatible HTTP server over the native engine (server/server.h).
//
//   scout-eval serve --model M.gguf [--port P] [--host 127.0.0.1] [--name NAME] [--ctx N]
//                    [--max-seqs N] [--batch-tokens N] [--threads T] [--kv f16|f32]
//                    [--max-body-bytes B] [--max-tokens-limit N] [--api-key-env VAR]
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "cli/commands.h"
#include "engine/gguf/gguf.h"
#include "engine/model/hparams.h"
#include "engine/util/error.h"
#include "server/server.h"

namespace scout::cli {
namespace {

struct ServeArgs {
  server::ServeOptions o;
  int64_t ctx = 0;
  std::string kv = "f16";
  std::string api_key_env;
  bool quiet = false;
};

int run_serve(ServeArgs& a) {
  auto& o = a.o;
  // As the native backend: the training context capped at 8192 unless --ctx says otherwise.
  o.engine.n_ctx = a.ctx > 0 ? a.ctx : 8192;
  if (a.ctx <= 0) {
    const auto hp = model::load_hparams(*gguf::File::open(o.model_path));
    if (hp.n_ctx_train > 0) o.engine.n_ctx = std::min<int64_t>(o.engine.n_ctx, hp.n_ctx_train);
  }
  o.engine.kv_type = a.kv == "f32" ? model::KvType::F32 : model::KvType::F16;
  o.access_log = !a.quiet;
  if (!a.api_key_env.empty()) {
    const char* key = std::getenv(a.api_key_env.c_str());
    if (!key || !*key) throw Error(fmt::format("--api-key-env {}: the environment variable is not set", a.api_key_env));
    o.api_key = key;
  }
  return server::serve(o);
}

}  // namespace

void add_serve(CLI::App& app, Action& run) {
  auto* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server (completions, chat, streaming, logprobs)");
  auto a = std::make_shared<ServeArgs>();
  cmd->add_option("--model", a->o.model_path, "GGUF model file")->required();
  cmd->add_option("--host", a->o.host, "Address to listen on")->default_val("127.0.0.1");
  cmd->add_option("--port", a->o.port, "Port (0 = any free port; the chosen one is printed)")->default_val(8000);
  cmd->add_option("--name", a->o.served_name, "Model name clients send (default: the file name without .gguf)");
  cmd->add_option("--ctx", a->ctx, "Context size per sequence (0 = training context, at most 8192)")->default_val(0);
  cmd->add_option("--max-seqs", a->o.engine.max_seqs, "Sequences evaluated together in one step")->default_val(16);
  cmd->add_option("--batch-tokens", a->o.engine.n_batch, "Most tokens in one forward pass")->default_val(512);
  cmd->add_option("--threads", a->o.engine.n_threads, "Engine threads (0 = all)")->default_val(0);
  cmd->add_option("--kv", a->kv, "KV cache type")->check(CLI::IsMember({"f16", "f32"}))->default_val("f16");
  cmd->add_option("--chat-template", a->o.chat_template, "Override the model's chat template (llama4, llama3, chatml...)");
  cmd->add_option("--max-body-bytes", a->o.max_body_bytes, "Largest request body (413 above)")->default_val(1 << 20);
  cmd->add_option("--max-tokens-limit", a->o.max_tokens_limit, "Largest max_tokens a request may ask for")->default_val(4096);
  cmd->add_option("--http-threads", a->o.http_threads, "Connections served at once")->default_val(128)->check(CLI::PositiveNumber);
  cmd->add_option("--api-key-env", a->api_key_env, "Require 'Authorization: Bearer $VAR' on every request");
  cmd->add_flag("--quiet", a->quiet, "No access log on stderr");
  cmd->callback([&run, a] { run = [a] { return run_serve(*a); }; });
}

}  // namespace scout::cli
