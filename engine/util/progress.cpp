#include "engine/util/progress.h"

#include <unistd.h>

#include <cstdio>

namespace scout {

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(int64_t n) { set(done_ + n); }

void Progress::set(int64_t done) {
  done_ = done;
  if (total_ > 0 && done_ >= total_) {
    finish();
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  const auto every = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (now - last_draw_ >= every) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? double(done_) / secs : 0.0;
  const double frac = total_ > 0 ? double(done_) / double(total_) : 1.0;
  constexpr int kWidth = 30;
  std::string bar(size_t(kWidth), ' ');
  for (int k = 0; k < int(frac * kWidth) && k < kWidth; ++k) bar[size_t(k)] = '#';
  const double eta = rate > 0 ? double(total_ - done_) / rate : 0.0;
  std::fprintf(stderr, "%s%s [%s] %lld/%lld %s  %.1f %s/s  %s %.0fs%s", tty_ ? "\r" : "", label_.c_str(),
               bar.c_str(), (long long)done_, (long long)total_, unit_.c_str(), rate, unit_.c_str(),
               final ? "took" : "eta", final ? secs : eta, (tty_ && !final) ? "" : "\n");
  std::fflush(stderr);
}

}  // namespace scout
