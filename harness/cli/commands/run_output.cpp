#include "run_output.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "attrib/error.h"
#include "report/report.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace attrib::cli {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

void claim_out_dir(const std::string& out) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw InputError("--out " + out + ": cannot create the folder (" + ec.message() + ")");
  const std::string probe =
      (fs::path(out) / (".attrib-probe-" + std::to_string(getpid()))).string();
  {
    std::FILE* f = std::fopen(probe.c_str(), "wb");
    if (!f)
      throw InputError("--out " + out + ": cannot write in the folder (" + errno_text(errno) + ")");
    const std::string text(4096, '\n');
    const bool written =
        std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0;
    int err = errno;
    const bool closed = std::fclose(f) == 0;
    if (written && !closed) err = errno;
    std::remove(probe.c_str());
    if (!written || !closed)
      throw InputError("--out " + out + ": cannot write in the folder (" + errno_text(err) + ")");
  }
  const std::string lock = (fs::path(out) / ".attrib.lock").string();
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(lock + ": cannot open the lock file (" + errno_text(errno) + ")");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {0};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) throw InputError(lock + ": cannot lock (" + errno_text(err) + ")");
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    pid.erase(std::remove(pid.begin(), pid.end(), '\n'), pid.end());
    throw InputError(out + " is in use by another attrib run (pid " +
                     (pid.empty() ? std::string("unknown") : pid) + ")");
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    throw InputError(lock + ": cannot write (" + errno_text(errno) + ")");
  // fd stays open (and locked) until the process exits.
}

std::unique_ptr<RunStore> open_store(const std::string& out, const Args& args) {
  const std::string path = (fs::path(out) / "store.sqlite").string();
  if (args.flag("--fresh"))
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
  if (args.flag("--no-store")) return nullptr;
  return std::make_unique<RunStore>(path);
}

std::string store_summary(const StoreCounts& c) {
  auto part = [](const char* what, int64_t computed, int64_t reused) {
    return std::to_string(computed) + " " + what + " units computed, " + std::to_string(reused) +
           " reused";
  };
  return part("explanation", c.explanations_computed, c.explanations_reused) + "; " +
         part("score", c.scores_computed, c.scores_reused) + "; " +
         part("analysis", c.analyses_computed, c.analyses_reused);
}

std::string resume_command(const std::vector<std::string>& words, const std::string& out) {
  std::string cmd;
  bool has_out = false;
  for (const std::string& w : words) {
    has_out = has_out || w == "--out" || w.rfind("--out=", 0) == 0;
    const bool plain = !w.empty() && w.find_first_of(" '\"$`\\|&;<>()*?!#~") == std::string::npos;
    std::string quoted = "'";
    for (char c : w) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    cmd += (cmd.empty() ? "" : " ") + (plain ? w : quoted + "'");
  }
  if (!has_out) cmd += " --out '" + out + "'";
  return cmd;
}

int finish_run(const std::string& out, RunResults& results, const SuiteConfig& suite,
               const Registry& registry, const RunStore* store, const Args& args) {
  json load_errors = json::array();
  for (const auto& e : registry.errors())
    load_errors.push_back({{"path", e.path}, {"message", e.message}});
  results.context["plugin_load_errors"] = load_errors;
  write_results(out, results, suite.stats);
  std::cout << "results:     " << (fs::path(out) / "results.json").string() << "\n"
            << "leaderboard: " << (fs::path(out) / "leaderboard.md").string() << "\n"
            << "csv:         " << (fs::path(out) / "leaderboard.csv").string() << "\n";
  try {  // the report is a view of the results: failing to write it never fails the run
    const std::string report = (fs::path(out) / "report.html").string();
    write_report(out, report, ReportOptions{}, store && !store->failed());
    std::cout << "report:      " << report << "\n";
  } catch (...) {
    std::cerr << "attrib: warning: report.html not written: " << in_flight_error() << "\n";
  }
  if (results.context.value("incomplete", false)) {
    std::cerr << "attrib: interrupted; the results are incomplete.";
    if (store && !store->failed())
      std::cerr << " Finished units are kept in " << store->path() << ". Resume with:\n  "
                << resume_command(args.command_line(), out);
    std::cerr << "\n";
    return kInterrupted;
  }
  const bool load_failed = !registry.errors().empty();
  if (load_failed) {
    // Listed again at the end: the first report scrolled away behind the progress output.
    report_load_errors(registry);
    std::cerr << registry.errors().size()
              << " plugin file(s) failed to load (see `attrib plugins`)\n";
  }
  if (!results.errors.empty()) {
    std::cerr << results.errors.size() << " part(s) of the run failed; see \"errors\" in "
              << (fs::path(out) / "results.json").string() << "\n";
    return kPartial;  // before kPlugin: missing numbers matter more than an unused plugin
  }
  return load_failed ? kPlugin : kOk;
}

}  // namespace attrib::cli
