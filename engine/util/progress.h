#pragma once
// A progress bar on stderr for long work: count, rate and ETA. Redraws in place on a
// terminal; elsewhere (CI logs) prints a line at most every few seconds.
#include <chrono>
#include <cstdint>
#include <string>

namespace scout {
class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit = "it");
  ~Progress();
  void advance(int64_t n = 1);
  void set(int64_t done);
  void finish();

 private:
  void draw(bool final);
  std::string label_, unit_;
  int64_t total_, done_ = 0;
  bool tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};
}  // namespace scout
