// Chat rendering against the models' own Jinja templates rendered by jinja2 the way
// transformers does (scripts/chat_template_fixture.py -> tests/data/tokenizer/chat_expected.json).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/test_paths.h"
#include "engine/tokenizer/chat_template.h"
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

std::string template_text(const std::string& name) { return read_file(data_dir() / "templates" / (name + ".jinja")); }

std::vector<ChatMessage> messages_of(const nlohmann::json& conv) {
  std::vector<ChatMessage> out;
  for (const auto& m : conv) out.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
  return out;
}

}  // namespace

TEST(ChatTemplate, MatchesJinjaRenderings) {
  const auto fixture = nlohmann::json::parse(read_file(data_dir() / "chat_expected.json"));
  const std::string bos = fixture.at("bos_token");
  const auto& conversations = fixture.at("conversations");
  size_t checked = 0;
  for (const auto& c : fixture.at("cases")) {
    const std::string name = c.at("template");
    const ChatTemplate t = ChatTemplate::from_jinja(template_text(name), bos);
    const auto messages = messages_of(conversations.at(c.at("conversation").get<size_t>()));
    const bool gen = c.at("add_generation_prompt");
    EXPECT_EQ(t.render(messages, gen), c.at("rendered").get<std::string>())
        << name << " conversation " << c.at("conversation") << " add_generation_prompt=" << gen;
    ++checked;
  }
  EXPECT_EQ(checked, 4u * conversations.size() * 2);
}

TEST(ChatTemplate, RecognisesTemplates) {
  EXPECT_EQ(ChatTemplate::from_jinja(template_text("llama4")).format(), ChatFormat::LLAMA4);
  EXPECT_EQ(ChatTemplate::from_jinja(template_text("llama3")).format(), ChatFormat::LLAMA3);
  EXPECT_EQ(ChatTemplate::from_jinja(template_text("llama3.1")).format(), ChatFormat::LLAMA3_1);
  const ChatTemplate smol = ChatTemplate::from_jinja(template_text("smollm2"), "");
  EXPECT_EQ(smol.format(), ChatFormat::CHATML);
  EXPECT_EQ(smol.default_system, "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
  EXPECT_EQ(smol.end_of_turn(), "<|im_end|>");
  EXPECT_THROW(ChatTemplate::from_jinja("{{ messages }}"), scout::Error);
}

TEST(ChatTemplate, ByNameAndOverride) {
  const ChatTemplate t = ChatTemplate::from_name("llama4");
  const std::vector<ChatMessage> conv = {{"user", "hi"}};
  EXPECT_EQ(t.render(conv, true),
            "<|begin_of_text|><|header_start|>user<|header_end|>\n\nhi<|eot|>"
            "<|header_start|>assistant<|header_end|>\n\n");
  EXPECT_EQ(t.name(), "llama4");
  EXPECT_EQ(t.end_of_turn(), "<|eot|>");
  EXPECT_THROW(ChatTemplate::from_name("vicuna"), scout::Error);
  // Plain ChatML has no default system prompt.
  EXPECT_EQ(ChatTemplate::from_name("chatml").render(conv, false), "<|im_start|>user\nhi<|im_end|>\n");
}

TEST(ChatTemplate, SmolLM2FromItsGguf) {
  const fs::path model = scout::test::smollm2_path();
  if (model.empty()) GTEST_SKIP() << "SmolLM2 GGUF absent (run scripts/setup.sh)";
  const Tokenizer tok = Tokenizer::load(model.string());
  const ChatTemplate t = ChatTemplate::for_vocab(tok.vocab());
  EXPECT_EQ(t.format(), ChatFormat::CHATML);
  // An override of the same family keeps the model's default system prompt.
  EXPECT_EQ(ChatTemplate::for_vocab(tok.vocab(), "chatml").default_system, t.default_system);
  EXPECT_EQ(ChatTemplate::for_vocab(tok.vocab(), "llama3").format(), ChatFormat::LLAMA3);

  const std::vector<ChatMessage> conv = {{"user", "What is the capital of France?"}};
  const std::string prompt = t.render(conv, true);
  const auto ids = tok.encode(prompt, false, true);
  // <|im_start|>system ... <|im_end|> \n <|im_start|>user ... <|im_end|> \n <|im_start|>assistant \n
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1), 3);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 2), 2);
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(tok.decode(ids), prompt);
}

TEST(ChatTemplate, PythonStripAndJson) {
  EXPECT_EQ(python_strip(" \t\n\x1c\u3000 x y \u00a0\u2029"), "x y");
  EXPECT_EQ(python_strip("\u200bzero width is not space\u200b"), "\u200bzero width is not space\u200b");
  EXPECT_EQ(python_strip(""), "");
  EXPECT_EQ(python_strip("   "), "");
  EXPECT_EQ(json_string("a\"b\\c\n\x01é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
}
