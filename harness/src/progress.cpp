#include "progress.h"

namespace attrib {

void Progress::stage(const std::string& label, int64_t total) {
  label_ = label;
  total_ = total;
  count_ = 0;
  start_ = std::chrono::steady_clock::now();
  if (quiet_) return;
  if (tty_) {
    draw();
  } else {
    std::fprintf(stderr, "%s ...\n", label_.c_str());
  }
}

void Progress::advance(int64_t n) {
  count_ += n;
  if (tty_ && !quiet_) draw();
}

void Progress::draw() {
  const int width = 28;
  const int filled = total_ > 0 ? static_cast<int>(width * count_ / total_) : width;
  std::string bar(filled, '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\r\033[K[%s] %lld/%lld %s", bar.c_str(), static_cast<long long>(count_),
               static_cast<long long>(total_), label_.c_str());
  std::fflush(stderr);
}

void Progress::done(const std::string& summary) {
  if (quiet_) return;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s: %s (%.1f s)\n", label_.c_str(), summary.c_str(), s);
}

void Progress::note(const std::string& line) {
  if (quiet_) return;
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace attrib
