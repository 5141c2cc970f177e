// Byte-level BPE tokenizer against independent oracles (see docs/TOKENIZER.md):
//  - llama.cpp's vocab test vectors (ggml-vocab-{llama-bpe,gpt-2}.gguf + .inp/.out),
//  - Hugging Face `tokenizers` ids for our corpus (scripts/tokenizer_fixture.py) with the
//    SmolLM2 vocabulary and with the Llama 3 vocabulary under the Llama 3 and Llama 4 regexes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "common/test_paths.h"
#include "engine/gguf/gguf.h"
#include "engine/tokenizer/byte_level.h"
#include "engine/tokenizer/pretokenize.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"

namespace fs = std::filesystem;
using namespace scout::tok;

namespace {

fs::path data_dir() { return scout::test::source_dir() / "tests" / "data" / "tokenizer"; }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// llama.cpp's .inp format: cases separated by "\n__ggml_vocab_test__\n".
std::vector<std::string> read_cases(const fs::path& p) {
  const std::string raw = read_file(p);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> cases;
  size_t pos = 0;
  while (pos < raw.size()) {  // a trailing separator ends the list (llama.cpp's reader)
    const size_t next = raw.find(sep, pos);
    if (next == std::string::npos) {
      cases.push_back(raw.substr(pos));
      break;
    }
    cases.push_back(raw.substr(pos, next - pos));
    pos = next + sep.size();
  }
  return cases;
}

// One line of space-separated ids per case.
std::vector<std::vector<TokenId>> read_ids(const fs::path& p) {
  std::istringstream in(read_file(p));
  std::vector<std::vector<TokenId>> all;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<TokenId> ids;
    for (TokenId id; ls >> id;) ids.push_back(id);
    all.push_back(std::move(ids));
  }
  return all;
}

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c < 0x20) out += "\\x" + std::to_string(c);
    else out += static_cast<char>(c);
  }
  return out.size() > 120 ? out.substr(0, 120) + "..." : out;
}

// Compares every case; reports each mismatch with its text.
void expect_cases(const Tokenizer& tok, const std::vector<std::string>& cases,
                  const std::vector<std::vector<TokenId>>& expected, bool parse_special) {
  ASSERT_EQ(cases.size(), expected.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(tok.encode(cases[i], false, parse_special), expected[i])
        << "case " << i << ": '" << printable(cases[i]) << "'";
    EXPECT_EQ(tok.decode(expected[i]), cases[i]) << "decode of case " << i;
  }
}

const Tokenizer& llama_bpe() {
  static const Tokenizer tok = Tokenizer::load((data_dir() / "ggml-vocab-llama-bpe.gguf").string());
  return tok;
}

const Tokenizer& llama_bpe_with_llama4_regex() {
  static const Tokenizer tok = [] {
    Vocab v = Vocab::load((data_dir() / "ggml-vocab-llama-bpe.gguf").string());
    v.set_pre("llama4");
    return Tokenizer(std::move(v));
  }();
  return tok;
}

const Tokenizer* smollm2() {
  static const std::unique_ptr<Tokenizer> tok = []() -> std::unique_ptr<Tokenizer> {
    fs::path p = scout::test::smollm2_path();
    if (p.empty()) return nullptr;
    return std::make_unique<Tokenizer>(Tokenizer::load(p.string()));
  }();
  return tok.get();
}

#define REQUIRE_SMOLLM2()                                                      \
  const Tokenizer* smol = smollm2();                                           \
  if (!smol) GTEST_SKIP() << "SmolLM2 GGUF absent (run scripts/setup.sh)"

std::vector<std::string> words_of(PreTokenizer kind, std::string_view text) {
  std::vector<std::string> out;
  for (auto w : pre_tokenize(kind, text)) out.emplace_back(w);
  return out;
}

}  // namespace

// ---- Oracle comparisons -------------------------------------------------------------------

TEST(TokenizerOracle, LlamaBpeMatchesLlamaCppVectors) {
  const fs::path base = data_dir() / "ggml-vocab-llama-bpe.gguf";
  expect_cases(llama_bpe(), read_cases(base.string() + ".inp"), read_ids(base.string() + ".out"), false);
}

TEST(TokenizerOracle, Gpt2MatchesLlamaCppVectors) {
  const fs::path base = data_dir() / "ggml-vocab-gpt-2.gguf";
  Tokenizer tok = Tokenizer::load(base.string());
  EXPECT_EQ(tok.vocab().pre_kind, PreTokenizer::GPT2);
  expect_cases(tok, read_cases(base.string() + ".inp"), read_ids(base.string() + ".out"), false);
}

TEST(TokenizerOracle, Llama3CorpusMatchesHfTokenizers) {
  const auto cases = read_cases(data_dir() / "corpus.inp");
  expect_cases(llama_bpe(), cases, read_ids(data_dir() / "llama3.out"), false);
  expect_cases(llama_bpe(), cases, read_ids(data_dir() / "llama3-special.out"), true);
}

TEST(TokenizerOracle, Llama4RegexCorpusMatchesHfTokenizers) {
  const auto cases = read_cases(data_dir() / "corpus.inp");
  expect_cases(llama_bpe_with_llama4_regex(), cases, read_ids(data_dir() / "llama4.out"), false);
  expect_cases(llama_bpe_with_llama4_regex(), cases, read_ids(data_dir() / "llama4-special.out"), true);
}

TEST(TokenizerOracle, Llama4RegexLongDocumentMatchesHfTokenizers) {
  const std::string text = read_file(data_dir() / "long.txt");
  ASSERT_GT(text.size(), 128u * 1024) << "long enough to be encoded in several chunks";
  const auto expected = read_ids(data_dir() / "llama4-long.out");
  ASSERT_EQ(expected.size(), 1u);
  EXPECT_EQ(llama_bpe_with_llama4_regex().encode(text, false, false), expected[0]);
}

TEST(TokenizerOracle, SmolLM2CorpusMatchesHfTokenizers) {
  REQUIRE_SMOLLM2();
  const auto cases = read_cases(data_dir() / "corpus.inp");
  expect_cases(*smol, cases, read_ids(data_dir() / "smollm2.out"), false);
  expect_cases(*smol, cases, read_ids(data_dir() / "smollm2-special.out"), true);
}

TEST(TokenizerOracle, SmolLM2LongDocumentMatchesHfTokenizers) {
  REQUIRE_SMOLLM2();
  const std::string text = read_file(data_dir() / "long.txt");
  const auto expected = read_ids(data_dir() / "smollm2-long.out");
  ASSERT_EQ(expected.size(), 1u);
  EXPECT_EQ(smol->encode(text, false, false), expected[0]);
}

// ---- Vocabulary metadata ------------------------------------------------------------------

TEST(TokenizerVocab, SmolLM2Metadata) {
  REQUIRE_SMOLLM2();
  const Vocab& v = smol->vocab();
  EXPECT_EQ(v.model, "gpt2");
  EXPECT_EQ(v.pre, "smollm");
  EXPECT_EQ(v.pre_kind, PreTokenizer::SMOLLM);
  EXPECT_EQ(v.size(), 49152u);
  EXPECT_EQ(v.merges.size(), 48900u);
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.eos, 2);
  EXPECT_EQ(v.eot, 2);  // <|im_end|>, found by its text
  EXPECT_EQ(v.pad, 2);
  EXPECT_EQ(v.eog, (std::vector<TokenId>{2}));
  EXPECT_TRUE(v.is_eog(2));
  EXPECT_FALSE(v.is_eog(0));
  EXPECT_FALSE(v.add_bos);
  EXPECT_FALSE(v.ignore_merges);
  EXPECT_EQ(v.types[1], TokenType::CONTROL);
  EXPECT_NE(v.chat_template.find("<|im_start|>"), std::string::npos);
}

TEST(TokenizerVocab, LlamaBpeMetadata) {
  const Vocab& v = llama_bpe().vocab();
  EXPECT_EQ(v.pre_kind, PreTokenizer::LLAMA3);
  EXPECT_EQ(v.size(), 128256u);
  EXPECT_EQ(v.bos, 128000);
  EXPECT_EQ(v.eos, 128001);
  EXPECT_EQ(v.eot, 128009);  // <|eot_id|>
  EXPECT_EQ(v.eog, (std::vector<TokenId>{128001, 128009}));  // <|end_of_text|>, <|eot_id|>
  EXPECT_TRUE(v.add_bos);    // the llama3 default, no add_bos_token key in this file
  EXPECT_TRUE(v.ignore_merges);
}

namespace {
// A vocab-only GGUF with the given tokenizer keys, written with the project's writer.
std::string write_vocab_gguf(const std::string& name, const std::string& model, const std::string& pre) {
  scout::gguf::Writer w;
  w.set("general.architecture", scout::gguf::Value::of_string("llama"));
  w.set("tokenizer.ggml.model", scout::gguf::Value::of_string(model));
  if (!pre.empty()) w.set("tokenizer.ggml.pre", scout::gguf::Value::of_string(pre));
  w.set("tokenizer.ggml.tokens", scout::gguf::Value::of_strings({"a", "b", "ab"}));
  w.set("tokenizer.ggml.token_type", scout::gguf::Value::of_i32s({1, 1, 1}));
  w.set("tokenizer.ggml.merges", scout::gguf::Value::of_strings({"a b"}));
  const std::string path = (scout::test::scratch_dir("tokenizer_" + name) / "vocab.gguf").string();
  w.write(path);
  return path;
}
}  // namespace

TEST(TokenizerVocab, RejectsNonBpeModelsClearly) {
  const std::string path = write_vocab_gguf("spm", "llama", "default");
  try {
    Vocab::load(path);
    FAIL() << "expected an error";
  } catch (const scout::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.model is 'llama'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(TokenizerVocab, RejectsUnknownPreTokenizer) {
  const std::string path = write_vocab_gguf("pre", "gpt2", "deepseek-coder");
  try {
    Vocab::load(path);
    FAIL() << "expected an error";
  } catch (const scout::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'deepseek-coder'"), std::string::npos) << e.what();
  }
}

TEST(TokenizerVocab, TinyVocabMerges) {
  Tokenizer tok = Tokenizer::load(write_vocab_gguf("tiny", "gpt2", "gpt2"));
  EXPECT_EQ(tok.encode("ab", false, false), (std::vector<TokenId>{2}));
  EXPECT_EQ(tok.encode("aab", false, false), (std::vector<TokenId>{0, 2}));
  EXPECT_EQ(tok.encode("ba", false, false), (std::vector<TokenId>{1, 0}));
  // Bytes without a token are dropped (as llama.cpp does); real vocabularies have all 256.
  EXPECT_EQ(tok.encode("axb", false, false), (std::vector<TokenId>{0, 1}));
}

// ---- Special tokens, BOS ------------------------------------------------------------------

TEST(TokenizerSpecial, ParseSpecialControlsMatching) {
  REQUIRE_SMOLLM2();
  const std::string text = "<|im_start|>user\nhi<|im_end|>";
  const auto parsed = smol->encode(text, false, true);
  ASSERT_GE(parsed.size(), 3u);
  EXPECT_EQ(parsed.front(), 1);
  EXPECT_EQ(parsed.back(), 2);
  const auto plain = smol->encode(text, false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 1), 0);
  EXPECT_GT(plain.size(), parsed.size());
  EXPECT_EQ(smol->decode(parsed), text);
  EXPECT_EQ(smol->decode(plain), text);
  EXPECT_EQ(smol->decode(parsed, /*skip_special=*/true), "user\nhi");
}

TEST(TokenizerSpecial, LongestSpecialWinsAndAdjacentSpecials) {
  const Tokenizer& t = llama_bpe();
  const auto ids = t.encode("<|eot_id|><|eot_id|>x<|begin_of_text|>", false, true);
  EXPECT_EQ(ids, (std::vector<TokenId>{128009, 128009, 87, 128000}));
}

TEST(TokenizerSpecial, AddBos) {
  const Tokenizer& t = llama_bpe();
  const auto ids = t.encode("Hello", true, false);
  EXPECT_EQ(ids, (std::vector<TokenId>{128000, 9906}));
  EXPECT_EQ(t.encode("", true, false), (std::vector<TokenId>{128000}));
  EXPECT_TRUE(t.encode("", false, true).empty());
}

// ---- Decode ------------------------------------------------------------------------------

TEST(TokenizerDecode, RoundTripsArbitraryBytes) {
  const Tokenizer* toks[] = {&llama_bpe(), &llama_bpe_with_llama4_regex(), smollm2()};
  std::mt19937 rng(1234);
  std::vector<std::string> texts = read_cases(data_dir() / "corpus.inp");
  texts.push_back(std::string("\xff\xfe invalid \xc3( utf8 \xe2\x82 \xed\xa0\x80 surrogate \xf4\x90\x80\x80", 45));
  for (int i = 0; i < 200; ++i) {
    std::string s(rng() % 64, '\0');
    for (auto& c : s) c = static_cast<char>(rng() % 256);
    texts.push_back(s);
  }
  for (const Tokenizer* t : toks) {
    if (!t) continue;
    // SmolLM2 has no token for 21 bytes that never occur in its training text (0x04, 0xC0,
    // 0xFF, ...): they are dropped, as by the Hugging Face tokenizer. Only texts whose every
    // byte has a token can round-trip.
    auto representable = [&](const std::string& text) {
      return std::all_of(text.begin(), text.end(),
                         [&](char c) { return t->piece_to_token(std::string(1, c)) != kNoToken; });
    };
    for (const auto& text : texts) {
      if (!representable(text)) {
        EXPECT_LT(t->decode(t->encode(text, false, false)).size(), text.size());
        continue;
      }
      EXPECT_EQ(t->decode(t->encode(text, false, true)), text) << printable(text);
      EXPECT_EQ(t->decode(t->encode(text, false, false)), text) << printable(text);
    }
  }
}

TEST(TokenizerDecode, PiecesAndBadIds) {
  const Tokenizer& t = llama_bpe();
  EXPECT_EQ(t.token_to_piece(9906), "Hello");
  EXPECT_EQ(t.token_to_piece(22691), " Hello");
  EXPECT_EQ(t.token_to_piece(128009), "<|eot_id|>");
  EXPECT_EQ(t.piece_to_token(" Hello"), 22691);
  EXPECT_EQ(t.piece_to_token("no such piece at all"), kNoToken);
  EXPECT_THROW(t.token_to_piece(-1), scout::Error);
  EXPECT_THROW(t.token_to_piece(128256), scout::Error);
  const std::vector<TokenId> bad = {1, 999999};
  EXPECT_THROW(t.decode(bad), scout::Error);
}

TEST(TokenizerDecode, ByteLevelMapping) {
  EXPECT_EQ(byte_level_encode("Hello world\n"), "HelloĠworldĊ");
  EXPECT_EQ(byte_level_decode("HelloĠworldĊ"), std::optional<std::string>("Hello world\n"));
  EXPECT_EQ(byte_level_decode("a b"), std::nullopt);  // a raw space is not a byte stand-in
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    EXPECT_EQ(byte_level_decode(byte_level_encode(one)), std::optional<std::string>(one));
  }
}

// ---- Pre-tokenizers -----------------------------------------------------------------------

TEST(PreTokenizer, Gpt2Splits) {
  EXPECT_EQ(words_of(PreTokenizer::GPT2, "  Hello  world!!\n\nit's 123"),
            (std::vector<std::string>{" ", " Hello", " ", " world", "!!", "\n", "\n", "it", "'s", " 123"}));
  EXPECT_EQ(words_of(PreTokenizer::GPT2, "a   "), (std::vector<std::string>{"a", "   "}));
}

TEST(PreTokenizer, SmolLMSplitsDigits) {
  EXPECT_EQ(words_of(PreTokenizer::SMOLLM, "x 123 "),
            (std::vector<std::string>{"x", " ", "1", "2", "3", " "}));
}

TEST(PreTokenizer, Llama3Splits) {
  EXPECT_EQ(words_of(PreTokenizer::LLAMA3, "Hello WORLD'S 12345 ..\n\n  x"),
            (std::vector<std::string>{"Hello", " WORLD", "'S", " ", "123", "45", " ..\n\n", " ", " x"}));
}

TEST(PreTokenizer, Llama4CaseSplits) {
  EXPECT_EQ(words_of(PreTokenizer::LLAMA4, "HTTPServer iPhone ÄPFELäpfel path/x//"),
            (std::vector<std::string>{"HTTPServer", " i", "Phone", " ÄPFELäpfel", " path", "/x", "//"}));
}

TEST(PreTokenizer, NamesMapToFamilies) {
  EXPECT_EQ(pre_tokenizer_from_name("llama-bpe"), PreTokenizer::LLAMA3);
  EXPECT_EQ(pre_tokenizer_from_name("llama4"), PreTokenizer::LLAMA4);
  EXPECT_EQ(pre_tokenizer_from_name("smollm"), PreTokenizer::SMOLLM);
  EXPECT_EQ(pre_tokenizer_from_name("gpt-2"), PreTokenizer::GPT2);
  EXPECT_EQ(pre_tokenizer_from_name("qwen2"), std::nullopt);
}

// Long inputs are encoded in chunks; a cut must never fall inside a pre-token. Each unit below
// ends at a word boundary (newline, then a letter), so the whole encodes as the repeated unit.
TEST(TokenizerChunks, LongInputsEncodeAsTheirParts) {
  const std::string unit = "ab.\n/cd x.\n\nnext\n/// y\n";
  std::string text;
  while (text.size() < 300 * 1024) text += unit;
  for (const Tokenizer* t : {&llama_bpe(), &llama_bpe_with_llama4_regex(), smollm2()}) {
    if (!t) continue;
    const auto unit_ids = t->encode(unit, false, false);
    std::vector<TokenId> expected;
    for (size_t i = 0; i < text.size() / unit.size(); ++i) expected.insert(expected.end(), unit_ids.begin(), unit_ids.end());
    EXPECT_EQ(t->encode(text, false, false), expected) << pre_tokenizer_name(t->vocab().pre_kind);
  }
}

// ---- Throughput ---------------------------------------------------------------------------

namespace {
// Text-like input with a Zipf-ish vocabulary of random words (some repeat, many do not),
// punctuation, digits, newlines and indentation.
std::string synthetic_text(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> lexicon(50000);
  for (auto& w : lexicon) {
    w.resize(1 + rng() % 10);
    for (auto& c : w) c = static_cast<char>('a' + rng() % 26);
  }
  const char* seps[] = {" ", " ", " ", " ", ", ", ". ", "\n", "\n    ", " (", ") ", " 42 ", "\t"};
  std::string out;
  while (out.size() < bytes) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    out += lexicon[static_cast<size_t>(std::pow(u, 3.0) * lexicon.size()) % lexicon.size()];
    out += seps[rng() % std::size(seps)];
  }
  return out;
}
}  // namespace

TEST(TokenizerSpeed, EncodesMegabytesPerSecond) {
  const std::string text = synthetic_text(4u * 1024 * 1024, 7);
  for (const Tokenizer* t : {&llama_bpe(), &llama_bpe_with_llama4_regex(), smollm2()}) {
    if (!t) continue;
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = t->encode(text, false, true);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double mbps = text.size() / 1e6 / s;
    std::printf("[ speed    ] %-8s %.1f MB in %.2f s: %.1f MB/s, %zu tokens\n",
                std::string(pre_tokenizer_name(t->vocab().pre_kind)).c_str(), text.size() / 1e6, s, mbps,
                ids.size());
    EXPECT_GT(mbps, 1.0) << "encoding should run at megabytes per second";
    EXPECT_EQ(t->decode(ids), text);
  }
}
