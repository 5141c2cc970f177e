#pragma once
// String helpers every layer uses.
#include <cctype>
#include <string>
#include <string_view>

namespace scout {

// Python's str.strip() for ASCII whitespace (space, \t, \n, \v, \f, \r).
inline std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace scout
