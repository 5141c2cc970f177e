#pragma once
// The prompt template language of protocol files: Python str.format's simple subset.
// "{name}" is replaced by the variable's text, "{{" and "}}" are literal braces; nothing else
// is special. So "Put your answer in \\boxed{{}}" renders as "Put your answer in \boxed{}".
// A name that is not a variable is an error: a typo in a protocol file must not silently
// produce a different prompt.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace scout::harness {

// `vars` is a JSON object; strings are inserted as is, numbers and booleans as their JSON
// text. Throws scout::Error naming the template and the unknown or malformed field.
std::string render_template(std::string_view tmpl, const nlohmann::json& vars);

// Checks the syntax (balanced braces, non-empty names) without variables.
void check_template(std::string_view tmpl);

}  // namespace scout::harness
