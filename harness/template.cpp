#include "harness/template.h"

#include <fmt/format.h>

#include "engine/util/error.h"

namespace scout::harness {
namespace {

std::string excerpt(std::string_view tmpl) {
  return std::string(tmpl.substr(0, 60)) + (tmpl.size() > 60 ? "…" : "");
}

// Walks the template; for each field calls on_field(name), for text on_text(chunk).
template <class OnText, class OnField>
void walk(std::string_view tmpl, OnText on_text, OnField on_field) {
  size_t i = 0;
  while (i < tmpl.size()) {
    const char c = tmpl[i];
    if (c == '{') {
      if (i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
        on_text("{");
        i += 2;
        continue;
      }
      const size_t close = tmpl.find('}', i + 1);
      if (close == std::string_view::npos)
        throw Error(fmt::format("template \"{}\": unmatched '{{' at offset {}", excerpt(tmpl), i));
      const std::string_view name = tmpl.substr(i + 1, close - i - 1);
      if (name.empty() || name.find('{') != std::string_view::npos)
        throw Error(fmt::format("template \"{}\": bad field name at offset {} (write {{{{ for a literal brace)",
                                excerpt(tmpl), i));
      on_field(name);
      i = close + 1;
    } else if (c == '}') {
      if (i + 1 < tmpl.size() && tmpl[i + 1] == '}') {
        on_text("}");
        i += 2;
        continue;
      }
      throw Error(fmt::format("template \"{}\": single '}}' at offset {} (write }}}} for a literal brace)",
                              excerpt(tmpl), i));
    } else {
      const size_t next = tmpl.find_first_of("{}", i);
      const size_t end = next == std::string_view::npos ? tmpl.size() : next;
      on_text(tmpl.substr(i, end - i));
      i = end;
    }
  }
}

}  // namespace

std::string render_template(std::string_view tmpl, const nlohmann::json& vars) {
  std::string out;
  walk(
      tmpl, [&](std::string_view text) { out += text; },
      [&](std::string_view name) {
        const std::string key(name);
        if (!vars.is_object() || !vars.contains(key))
          throw Error(fmt::format("template \"{}\": unknown field {{{}}}", excerpt(tmpl), key));
        const auto& v = vars.at(key);
        out += v.is_string() ? v.get<std::string>() : v.dump();
      });
  return out;
}

void check_template(std::string_view tmpl) {
  walk(tmpl, [](std::string_view) {}, [](std::string_view) {});
}

}  // namespace scout::harness
