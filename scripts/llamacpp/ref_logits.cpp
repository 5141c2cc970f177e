// ref-logits: dump llama.cpp's full-sequence logits for a list of prompts, in the format
// that scout-eval uses to compare engines (see docs/REFERENCE-LLAMACPP.md).
//
//   ref-logits --model M.gguf --prompt-file F --out DIR [--threads T] [--ctx N]
//              [--batch B] [--kv-f32] [--fa auto|on|off] [--verbose]
//
// Format (the contract every engine's dump follows):
//   * F holds one prompt per line (lines split on '\n' only, nothing trimmed). Empty lines are
//     skipped. In each line the two-character escapes \n, \t and \\ become newline, tab and
//     backslash; any other backslash is kept as is.
//   * Each prompt is tokenized with parse_special=true (text such as <|eot_id|> becomes the
//     special token) and without any automatic BOS/EOS; then the BOS token is prepended when
//     the vocab says add_bos (tokenizer.ggml.add_bos_token, or the tokenizer type's default).
//     EOS is never appended.
//   * Prompts are numbered from 0 in file order (skipped empty lines take no number).
//   * For prompt i: DIR/i.tokens.json is a JSON array of the token ids; DIR/i.logits.f32 is
//     raw little-endian float32, row-major [n_tokens x n_vocab]: row p holds the logits
//     after the token at position p (logits for every position).
//   * DIR/meta.json records the model, n_vocab, add_bos and the run settings (informative).
//
// Each prompt is evaluated from an empty KV cache as sequence 0 at positions 0..n-1, in
// llama_decode calls of at most --batch tokens (= n_batch = n_ubatch), every token flagged
// for output.

#include "llama.h"

#include <algorithm>
#include <cerrno>
#include <clocale>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

namespace {

struct options {
  std::string model;
  std::string prompt_file;
  std::string out;
  int threads = 0;     // 0: hardware concurrency
  int ctx = 0;         // 0: just large enough for the longest prompt
  int batch = 512;     // n_batch = n_ubatch
  bool kv_f32 = false; // F32 KV cache instead of llama.cpp's default F16
  std::string fa;      // "" = default: off with --kv-f32, else auto (llama.cpp's default)
  bool verbose = false;
  int generate = 0;    // greedy tokens to generate after each prompt (0: none)
};

[[noreturn]] void usage(const char* argv0, int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: %s --model M.gguf --prompt-file F --out DIR [--threads T] [--ctx N]\n"
               "          [--batch B] [--kv-f32] [--fa auto|on|off] [--generate N] [--verbose]\n"
               "  --threads T   CPU threads (default: all cores)\n"
               "  --ctx N       context size (default: longest prompt; error if a prompt is longer)\n"
               "  --batch B     tokens per llama_decode / ubatch (default 512)\n"
               "  --kv-f32      keep the KV cache in F32 (default: llama.cpp's F16); implies --fa off\n"
               "                (llama.cpp casts F32 K/V to F16 before flash attention)\n"
               "  --fa MODE     flash attention: auto (llama.cpp default), on, off\n"
               "  --generate N  after each prompt, decode N tokens greedily (argmax, ties to the lower\n"
               "                id, end-of-generation tokens not special) one at a time, writing\n"
               "                DIR/i.generated.json: the ids and each step's top-1/top-2 logit margin\n"
               "  --verbose     keep llama.cpp's log output\n",
               argv0);
  std::exit(rc);
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ref-logits: %s needs a value\n", a.c_str());
        usage(argv[0], 2);
      }
      return argv[++i];
    };
    auto next_int = [&]() -> int {
      std::string v = next();
      char* end = nullptr;
      long x = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || x < 0 || x > (1L << 30)) {
        std::fprintf(stderr, "ref-logits: bad value for %s: '%s'\n", a.c_str(), v.c_str());
        usage(argv[0], 2);
      }
      return static_cast<int>(x);
    };
    if (a == "--model" || a == "-m") o.model = next();
    else if (a == "--prompt-file") o.prompt_file = next();
    else if (a == "--out") o.out = next();
    else if (a == "--threads" || a == "-t") o.threads = next_int();
    else if (a == "--ctx" || a == "-c") o.ctx = next_int();
    else if (a == "--batch" || a == "-b") o.batch = next_int();
    else if (a == "--kv-f32") o.kv_f32 = true;
    else if (a == "--fa") o.fa = next();
    else if (a == "--generate") o.generate = next_int();
    else if (a == "--verbose" || a == "-v") o.verbose = true;
    else if (a == "--help" || a == "-h") usage(argv[0], 0);
    else {
      std::fprintf(stderr, "ref-logits: unknown argument '%s'\n", a.c_str());
      usage(argv[0], 2);
    }
  }
  if (o.model.empty() || o.prompt_file.empty() || o.out.empty()) usage(argv[0], 2);
  if (o.batch < 1) o.batch = 1;
  if (o.fa.empty()) o.fa = o.kv_f32 ? "off" : "auto";
  if (o.kv_f32 && o.fa != "off") {
    std::fprintf(stderr, "ref-logits: warning: with flash attention llama.cpp casts the F32 KV cache "
                         "to F16; use --fa off for F32 attention\n");
  }
  if (o.fa != "auto" && o.fa != "on" && o.fa != "off") {
    std::fprintf(stderr, "ref-logits: --fa must be auto, on or off\n");
    usage(argv[0], 2);
  }
  if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
  return o;
}

// \n, \t, \\ -> newline, tab, backslash; any other backslash is left untouched.
std::string unescape(const std::string& s) {
  std::string r;
  r.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char c = s[i + 1];
      if (c == 'n') { r += '\n'; ++i; continue; }
      if (c == 't') { r += '\t'; ++i; continue; }
      if (c == '\\') { r += '\\'; ++i; continue; }
    }
    r += s[i];
  }
  return r;
}

std::vector<std::string> read_prompts(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "ref-logits: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string all = ss.str();
  std::vector<std::string> prompts;
  size_t start = 0;
  while (start <= all.size()) {
    size_t end = all.find('\n', start);
    if (end == std::string::npos) end = all.size();
    std::string line = all.substr(start, end - start);
    if (!line.empty()) prompts.push_back(unescape(line));
    if (end == all.size()) break;
    start = end + 1;
  }
  return prompts;
}

std::vector<llama_token> tokenize(const llama_vocab* vocab, const std::string& text) {
  int n = -llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), nullptr, 0,
                          /*add_special=*/false, /*parse_special=*/true);
  std::vector<llama_token> toks(std::max(n, 0));
  if (n > 0) {
    int got = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), toks.data(), n,
                             false, true);
    if (got != n) {
      std::fprintf(stderr, "ref-logits: tokenization failed (%d vs %d)\n", got, n);
      std::exit(1);
    }
  }
  if (llama_vocab_get_add_bos(vocab)) toks.insert(toks.begin(), llama_vocab_bos(vocab));
  return toks;
}

void write_file(const std::string& path, const void* data, size_t n) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (n && std::fwrite(data, 1, n, f) != n) || std::fclose(f) != 0) {
    std::fprintf(stderr, "ref-logits: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
    std::exit(1);
  }
}

std::string json_escape(const std::string& s) {
  std::string r;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') { r += '\\'; r += static_cast<char>(c); }
    else if (c < 0x20) { char b[8]; std::snprintf(b, sizeof b, "\\u%04x", c); r += b; }
    else r += static_cast<char>(c);
  }
  return r;
}

void quiet_log(ggml_log_level level, const char* text, void*) {
  if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

// Greedy continuation: argmax of the last row (ties to the lower id), fed back one token at a
// time at the next position. Records each step's margin between the top two logits, so that
// a divergence from another engine can be checked against a near-tie.
bool generate_greedy(llama_context* ctx, llama_batch& batch, const float* last_row, int n_vocab, int n_prompt,
                     int n_gen, const std::string& path) {
  std::vector<float> row(last_row, last_row + n_vocab);
  std::string ids = "[", margins = "[";
  for (int k = 0; k < n_gen; ++k) {
    int best = 0, second = -1;
    for (int v = 1; v < n_vocab; ++v) {
      if (row[v] > row[best]) { second = best; best = v; }
      else if (second < 0 || row[v] > row[second]) second = v;
    }
    if (k) { ids += ','; margins += ','; }
    ids += std::to_string(best);
    char m[32];
    std::snprintf(m, sizeof m, "%.6g", double(row[best] - row[second]));
    margins += m;
    if (k + 1 == n_gen) break;
    batch.n_tokens = 1;
    batch.token[0] = best;
    batch.pos[0] = n_prompt + k;
    batch.n_seq_id[0] = 1;
    batch.seq_id[0][0] = 0;
    batch.logits[0] = 1;
    if (llama_decode(ctx, batch) != 0) {
      std::fprintf(stderr, "ref-logits: llama_decode failed while generating token %d\n", k + 1);
      return false;
    }
    const float* r = llama_get_logits_ith(ctx, 0);
    row.assign(r, r + n_vocab);
  }
  const std::string js = "{\"tokens\":" + ids + "],\"top2_margin\":" + margins + "]}\n";
  write_file(path, js.data(), js.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::setlocale(LC_NUMERIC, "C");
  const options o = parse_args(argc, argv);
  if (!o.verbose) llama_log_set(quiet_log, nullptr);

  const std::vector<std::string> prompts = read_prompts(o.prompt_file);
  if (prompts.empty()) {
    std::fprintf(stderr, "ref-logits: no prompts in %s\n", o.prompt_file.c_str());
    return 1;
  }
  if (mkdir(o.out.c_str(), 0755) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "ref-logits: cannot create %s: %s\n", o.out.c_str(), std::strerror(errno));
    return 1;
  }

  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model* model = llama_model_load_from_file(o.model.c_str(), mp);
  if (!model) {
    std::fprintf(stderr, "ref-logits: cannot load model %s\n", o.model.c_str());
    return 1;
  }
  const llama_vocab* vocab = llama_model_get_vocab(model);
  const int n_vocab = llama_vocab_n_tokens(vocab);
  const bool add_bos = llama_vocab_get_add_bos(vocab);

  std::vector<std::vector<llama_token>> toks;
  int longest = 0;
  for (const auto& p : prompts) {
    toks.push_back(tokenize(vocab, p));
    longest = std::max<int>(longest, static_cast<int>(toks.back().size()));
  }
  if (longest == 0) {
    std::fprintf(stderr, "ref-logits: every prompt tokenized to nothing\n");
    return 1;
  }
  const int n_ctx = o.ctx > 0 ? o.ctx : longest + o.generate;
  if (longest + o.generate > n_ctx) {
    std::fprintf(stderr, "ref-logits: a prompt has %d tokens (+%d generated), more than --ctx %d\n", longest,
                 o.generate, n_ctx);
    return 1;
  }
  const int n_batch = std::min(o.batch, std::max(n_ctx, 1));

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(n_ctx);
  cp.n_batch = static_cast<uint32_t>(n_batch);
  cp.n_ubatch = static_cast<uint32_t>(n_batch);
  cp.n_seq_max = 1;
  cp.n_outputs_max = static_cast<uint32_t>(n_batch);          // every token is an output
  cp.n_outputs_max_per_seq = static_cast<uint32_t>(n_batch);
  cp.n_threads = o.threads;
  cp.n_threads_batch = o.threads;
  cp.no_perf = true;
  cp.flash_attn_type = o.fa == "on"    ? LLAMA_FLASH_ATTN_TYPE_ENABLED
                       : o.fa == "off" ? LLAMA_FLASH_ATTN_TYPE_DISABLED
                                       : LLAMA_FLASH_ATTN_TYPE_AUTO;
  if (o.kv_f32) {
    cp.type_k = GGML_TYPE_F32;
    cp.type_v = GGML_TYPE_F32;
  }
  llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) {
    std::fprintf(stderr, "ref-logits: cannot create a context (n_ctx %d)\n", n_ctx);
    return 1;
  }
  const int real_ctx = static_cast<int>(llama_n_ctx(ctx));

  {
    char desc[256] = {0};
    llama_model_desc(model, desc, sizeof desc);
    std::ostringstream m;
    m << "{\"model\":\"" << json_escape(o.model) << "\",\"model_desc\":\"" << json_escape(desc)
      << "\",\"n_vocab\":" << n_vocab << ",\"add_bos\":" << (add_bos ? "true" : "false")
      << ",\"bos\":" << llama_vocab_bos(vocab) << ",\"n_prompts\":" << prompts.size()
      << ",\"n_ctx\":" << real_ctx << ",\"n_batch\":" << n_batch
      << ",\"kv_type\":\"" << (o.kv_f32 ? "f32" : "f16") << "\",\"flash_attn\":\"" << o.fa
      << "\",\"threads\":" << o.threads << ",\"tool\":\"ref-logits\"}\n";
    const std::string s = m.str();
    write_file(o.out + "/meta.json", s.data(), s.size());
  }

  llama_batch batch = llama_batch_init(n_batch, 0, 1);
  llama_memory_t mem = llama_get_memory(ctx);
  std::vector<float> logits;

  for (size_t pi = 0; pi < toks.size(); ++pi) {
    const auto& t = toks[pi];
    const int n = static_cast<int>(t.size());
    const std::string stem = o.out + "/" + std::to_string(pi);

    std::string js = "[";
    for (int i = 0; i < n; ++i) {
      if (i) js += ',';
      js += std::to_string(t[i]);
    }
    js += "]\n";
    write_file(stem + ".tokens.json", js.data(), js.size());

    logits.assign(static_cast<size_t>(n) * n_vocab, 0.0f);
    llama_memory_clear(mem, true);
    for (int start = 0; start < n; start += n_batch) {
      const int m = std::min(n_batch, n - start);
      batch.n_tokens = m;
      for (int j = 0; j < m; ++j) {
        batch.token[j] = t[start + j];
        batch.pos[j] = start + j;
        batch.n_seq_id[j] = 1;
        batch.seq_id[j][0] = 0;
        batch.logits[j] = 1;
      }
      const int rc = llama_decode(ctx, batch);
      if (rc != 0) {
        std::fprintf(stderr, "ref-logits: llama_decode failed (%d) on prompt %zu at %d\n", rc, pi,
                     start);
        return 1;
      }
      for (int j = 0; j < m; ++j) {
        const float* row = llama_get_logits_ith(ctx, j);
        if (!row) {
          std::fprintf(stderr, "ref-logits: no logits for prompt %zu position %d\n", pi, start + j);
          return 1;
        }
        std::memcpy(&logits[static_cast<size_t>(start + j) * n_vocab], row,
                    sizeof(float) * static_cast<size_t>(n_vocab));
      }
    }
    write_file(stem + ".logits.f32", logits.data(), logits.size() * sizeof(float));
    if (o.generate > 0 && n > 0 &&
        !generate_greedy(ctx, batch, &logits[static_cast<size_t>(n - 1) * n_vocab], n_vocab, n, o.generate,
                         stem + ".generated.json"))
      return 1;
    std::fprintf(stderr, "ref-logits: prompt %zu: %d tokens -> %s.{tokens.json,logits.f32}\n", pi, n,
                 stem.c_str());
  }

  llama_batch_free(batch);
  llama_free(ctx);
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
