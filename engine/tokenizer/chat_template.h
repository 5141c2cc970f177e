#pragma once
// Chat prompt rendering for the model families the engine serves, equal byte for byte to what
// the models' own Jinja templates (tokenizer.chat_template) render through Hugging Face
// transformers for conversations of plain-text messages:
//
//   llama4    <|begin_of_text|>[<|header_start|>system<|header_end|>\n\n{trim(system)}<|eot|>]
//             <|header_start|>{role}<|header_end|>\n\n{content}<|eot|> ...
//   llama3    <|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n{trim(content)}<|eot_id|> ...
//   llama3.1  llama3 plus the system block with "Cutting Knowledge Date"/"Today Date" (3.1, 3.3)
//   chatml    <|im_start|>{role}\n{content}<|im_end|>\n ...  (SmolLM2, Qwen...), with the
//             template's default system prompt when the conversation has no system message
//
// Tool/ipython messages are rendered as the Llama templates do (content as a JSON string);
// tool calls and tool definitions are not supported. Templates are recognised, not executed.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/vocab.h"

namespace scout::tok {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant", "tool", or any other role name
  std::string content;
};

enum class ChatFormat { LLAMA4, LLAMA3, LLAMA3_1, CHATML };

class ChatTemplate {
 public:
  // By name: "llama4", "llama3", "llama3.1", "chatml". Throws scout::Error for other names.
  static ChatTemplate from_name(std::string_view name, std::string bos_text = "<|begin_of_text|>");
  // Recognises a Jinja template string by its markers (as llama.cpp does) and reads what it
  // needs from it (ChatML's default system prompt). Throws scout::Error when unrecognised.
  static ChatTemplate from_jinja(std::string_view jinja, std::string bos_text = "<|begin_of_text|>");
  // The vocabulary's own template (tokenizer.chat_template), or `override_name` when given;
  // an override of the same family keeps what was read from the template. BOS text comes
  // from the vocabulary. Throws scout::Error when there is neither.
  static ChatTemplate for_vocab(const Vocab& vocab, std::string_view override_name = "");

  ChatFormat format() const { return format_; }
  std::string_view name() const;
  // The text that ends an assistant turn ("<|eot|>", "<|eot_id|>", "<|im_end|>").
  std::string_view end_of_turn() const;

  std::string render(std::span<const ChatMessage> messages, bool add_generation_prompt) const;

  std::string bos_text;         // what the template's bos_token renders as (Llama formats)
  std::string default_system;   // ChatML: system turn used when the first message is not one
  std::string date_string = "26 Jul 2024";  // Llama 3.1 "Today Date" (the template's default)

 private:
  explicit ChatTemplate(ChatFormat f) : format_(f) {}
  std::string render_llama4(std::span<const ChatMessage> messages, bool add_generation_prompt) const;
  std::string render_llama3(std::span<const ChatMessage> messages, bool add_generation_prompt) const;
  std::string render_llama3_1(std::span<const ChatMessage> messages, bool add_generation_prompt) const;
  std::string render_chatml(std::span<const ChatMessage> messages, bool add_generation_prompt) const;

  ChatFormat format_;
};

// Jinja's `trim` (Python str.strip()): removes Unicode whitespace at both ends.
std::string python_strip(std::string_view s);
// transformers' `tojson` of a string (json.dumps(s, ensure_ascii=False)).
std::string json_string(std::string_view s);

}  // namespace scout::tok
