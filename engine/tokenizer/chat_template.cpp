#include "engine/tokenizer/chat_template.h"

#include <fmt/format.h>

#include <optional>

#include "engine/tokenizer/unicode.h"
#include "engine/util/error.h"

namespace scout::tok {
namespace {

constexpr std::string_view kChatMlSystemStart = "<|im_start|>system\n";
constexpr std::string_view kChatMlEnd = "<|im_end|>\n";

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

bool is_tool_role(const std::string& role) { return role == "tool" || role == "ipython"; }

// Python's str.isspace(): bidi classes WS, B, S and category Zs.
bool python_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Reads the Jinja string literal whose opening quote is at `open`; nullopt when unterminated.
std::optional<std::string> jinja_literal(std::string_view t, size_t open) {
  const char quote = t[open];
  std::string out;
  for (size_t i = open + 1; i < t.size(); ++i) {
    const char c = t[i];
    if (c == quote) return out;
    if (c != '\\' || i + 1 == t.size()) {
      out += c;
      continue;
    }
    const char e = t[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': case '\'': case '"': out += e; break;
      default: out += '\\', out += e; break;  // left as written
    }
  }
  return std::nullopt;
}

// A ChatML template's fixed system turn: a string literal holding exactly
// "<|im_start|>system\n" + prompt + "<|im_end|>\n" (SmolLM2, Qwen 2.5). "" when there is none.
std::string chatml_default_system(std::string_view jinja) {
  for (size_t at = jinja.find("<|im_start|>system"); at != std::string_view::npos;
       at = jinja.find("<|im_start|>system", at + 1)) {
    if (at == 0 || (jinja[at - 1] != '\'' && jinja[at - 1] != '"')) continue;
    const auto lit = jinja_literal(jinja, at - 1);
    if (!lit || !lit->starts_with(kChatMlSystemStart) || !lit->ends_with(kChatMlEnd)) continue;
    return lit->substr(kChatMlSystemStart.size(),
                       lit->size() - kChatMlSystemStart.size() - kChatMlEnd.size());
  }
  return "";
}

std::optional<ChatFormat> format_of_name(std::string_view name) {
  if (name == "llama4") return ChatFormat::LLAMA4;
  if (name == "llama3") return ChatFormat::LLAMA3;
  if (name == "llama3.1") return ChatFormat::LLAMA3_1;
  if (name == "chatml") return ChatFormat::CHATML;
  return std::nullopt;
}

}  // namespace

std::string python_strip(std::string_view s) {
  DecodedText t;
  decode_utf8(s, t);
  size_t b = 0, e = t.size();
  while (b < e && python_space(t.cps[b])) ++b;
  while (e > b && python_space(t.cps[e - 1])) --e;
  return std::string(s.substr(t.offsets[b], t.offsets[e] - t.offsets[b]));
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;  // ensure_ascii=False: everything else as is
        }
    }
  }
  return out + "\"";
}

ChatTemplate ChatTemplate::from_name(std::string_view name, std::string bos_text) {
  const auto f = format_of_name(name);
  if (!f) {
    throw Error(fmt::format("unknown chat template '{}' (known: llama4, llama3, llama3.1, chatml)", name));
  }
  ChatTemplate t(*f);
  t.bos_text = std::move(bos_text);
  return t;
}

ChatTemplate ChatTemplate::from_jinja(std::string_view jinja, std::string bos_text) {
  std::optional<ChatFormat> f;
  if (contains(jinja, "<|header_start|>") && contains(jinja, "<|header_end|>")) {
    f = ChatFormat::LLAMA4;
  } else if (contains(jinja, "<|start_header_id|>") && contains(jinja, "<|end_header_id|>")) {
    f = contains(jinja, "Cutting Knowledge Date") ? ChatFormat::LLAMA3_1 : ChatFormat::LLAMA3;
  } else if (contains(jinja, "<|im_start|>")) {
    f = ChatFormat::CHATML;
  }
  if (!f) {
    throw Error(fmt::format(
        "unrecognised chat template (starts '{}'); name one instead: llama4, llama3, llama3.1, chatml",
        jinja.substr(0, 60)));
  }
  ChatTemplate t(*f);
  t.bos_text = std::move(bos_text);
  if (*f == ChatFormat::CHATML) t.default_system = chatml_default_system(jinja);
  return t;
}

ChatTemplate ChatTemplate::for_vocab(const Vocab& vocab, std::string_view override_name) {
  std::string bos = vocab.bos != kNoToken ? vocab.tokens[static_cast<size_t>(vocab.bos)] : std::string();
  if (override_name.empty()) {
    if (vocab.chat_template.empty()) {
      throw Error("the model has no chat template (tokenizer.chat_template); name one: llama4, llama3, "
                  "llama3.1, chatml");
    }
    return from_jinja(vocab.chat_template, bos);
  }
  ChatTemplate t = from_name(override_name, bos);
  if (!vocab.chat_template.empty()) {
    try {
      ChatTemplate own = from_jinja(vocab.chat_template, bos);
      if (own.format_ == t.format_) return own;
    } catch (const Error&) {
      // The model's own template is not one we know: the named one stands alone.
    }
  }
  return t;
}

std::string_view ChatTemplate::name() const {
  switch (format_) {
    case ChatFormat::LLAMA4: return "llama4";
    case ChatFormat::LLAMA3: return "llama3";
    case ChatFormat::LLAMA3_1: return "llama3.1";
    case ChatFormat::CHATML: return "chatml";
  }
  return "?";
}

std::string_view ChatTemplate::end_of_turn() const {
  switch (format_) {
    case ChatFormat::LLAMA4: return "<|eot|>";
    case ChatFormat::LLAMA3:
    case ChatFormat::LLAMA3_1: return "<|eot_id|>";
    case ChatFormat::CHATML: return "<|im_end|>";
  }
  return "";
}

std::string ChatTemplate::render(std::span<const ChatMessage> messages, bool add_generation_prompt) const {
  switch (format_) {
    case ChatFormat::LLAMA4: return render_llama4(messages, add_generation_prompt);
    case ChatFormat::LLAMA3: return render_llama3(messages, add_generation_prompt);
    case ChatFormat::LLAMA3_1: return render_llama3_1(messages, add_generation_prompt);
    case ChatFormat::CHATML: return render_chatml(messages, add_generation_prompt);
  }
  return "";
}

// Llama 4: only a leading system message is trimmed; other contents go in verbatim.
std::string ChatTemplate::render_llama4(std::span<const ChatMessage> messages, bool gen) const {
  auto header = [](std::string_view role) { return fmt::format("<|header_start|>{}<|header_end|>\n\n", role); };
  std::string out = bos_text;
  if (!messages.empty() && messages.front().role == "system") {
    out += header("system") + python_strip(messages.front().content) + "<|eot|>";
    messages = messages.subspan(1);
  }
  for (const ChatMessage& m : messages) {
    if (is_tool_role(m.role)) {
      out += header("ipython") + json_string(m.content) + "<|eot|>";
    } else {
      out += header(m.role) + m.content + "<|eot|>";
    }
  }
  if (gen) out += header("assistant");
  return out;
}

// Llama 3 (3.0 Instruct): every content trimmed; BOS comes with the first message.
std::string ChatTemplate::render_llama3(std::span<const ChatMessage> messages, bool gen) const {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i == 0) out += bos_text;
    out += fmt::format("<|start_header_id|>{}<|end_header_id|>\n\n", messages[i].role);
    out += python_strip(messages[i].content) + "<|eot_id|>";
  }
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

// Llama 3.1 / 3.3: a system turn always, carrying the knowledge-cutoff and date lines.
std::string ChatTemplate::render_llama3_1(std::span<const ChatMessage> messages, bool gen) const {
  auto header = [](std::string_view role) { return fmt::format("<|start_header_id|>{}<|end_header_id|>\n\n", role); };
  std::string system;
  if (!messages.empty() && messages.front().role == "system") {
    system = python_strip(messages.front().content);
    messages = messages.subspan(1);
  }
  std::string out = bos_text + header("system") + "Cutting Knowledge Date: December 2023\n" +
                    "Today Date: " + date_string + "\n\n" + system + "<|eot_id|>";
  for (const ChatMessage& m : messages) {
    if (is_tool_role(m.role)) {
      out += header("ipython") + json_string(m.content) + "<|eot_id|>";
    } else {
      out += header(m.role) + python_strip(m.content) + "<|eot_id|>";
    }
  }
  if (gen) out += header("assistant");
  return out;
}

std::string ChatTemplate::render_chatml(std::span<const ChatMessage> messages, bool gen) const {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i == 0 && messages[0].role != "system" && !default_system.empty()) {
      out += std::string(kChatMlSystemStart) + default_system + std::string(kChatMlEnd);
    }
    out += "<|im_start|>" + messages[i].role + "\n" + messages[i].content + std::string(kChatMlEnd);
  }
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

}  // namespace scout::tok
