#pragma once
// One exception type for user-facing failures: the message is what the CLI prints.
#include <stdexcept>
#include <string>

namespace scout {
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
}  // namespace scout
