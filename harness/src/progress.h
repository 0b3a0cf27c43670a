#pragma once
// Progress reporting: a redrawn bar on a terminal, plain lines otherwise (logs, CI).
#include <chrono>
#include <cstdio>
#include <string>

namespace attrib {

class Progress {
 public:
  /// `tty`: draw a bar on stderr; otherwise print one line per stage. `quiet`: print nothing.
  explicit Progress(bool tty, bool quiet = false) : tty_(tty), quiet_(quiet) {}
  /// Starts a stage of `total` steps.
  void stage(const std::string& label, int64_t total);
  /// Advances the current stage.
  void advance(int64_t n = 1);
  /// Ends the current stage with a summary.
  void done(const std::string& summary);
  /// A line of its own (warnings, errors, results).
  void note(const std::string& line);

 private:
  void draw();
  bool tty_, quiet_;
  std::string label_;
  int64_t total_ = 0, count_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace attrib
