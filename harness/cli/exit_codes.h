#pragma once
// attrib's exit codes and the error types that select them. main.cpp maps exceptions to codes in
// one place (run_command); commands throw instead of returning error codes, and return only the
// codes that are results (kOk, kPlugin, kPartial, kRegression). README lists the same codes.
#include <stdexcept>

namespace attrib::cli {

enum Exit : int {
  kOk = 0,
  kInternal = 1,    // an unexpected exception (a bug): the first line of its message is shown
  kUsage = 2,       // unknown command or option, missing or bad option value, wrong arguments
  kInput = 3,       // invalid input: suite, JSON, model file, dataset, unwritable --out
  kPlugin = 4,      // a plugin failed to load, or the one asked for is missing or failed to create
  kPartial = 5,     // the run finished but some rows failed (takes precedence over kPlugin)
  kRegression = 6,  // `attrib compare` found at least one regression
  kInterrupted = 130,  // SIGINT/SIGTERM: partial results written, finished units kept in the store
};

/// One line per code for `attrib --help`.
struct ExitMeaning {
  int code;
  const char* meaning;
};
inline constexpr ExitMeaning kExitMeanings[] = {
    {kOk, "success"},
    {kInternal, "internal error"},
    {kUsage, "usage error (unknown command or option, missing or bad value)"},
    {kInput, "invalid input (suite, JSON, model, dataset, unwritable output)"},
    {kPlugin, "plugin error (also: a run that finished while some plugin failed to load)"},
    {kPartial, "run finished with failed rows (results written; takes precedence over 4)"},
    {kRegression, "compare found at least one regression"},
    {kInterrupted, "run interrupted (SIGINT/SIGTERM); re-run the same command to resume"},
};

/// Exit 2; the message is followed by "(see attrib COMMAND --help)".
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Exit 3. attrib::Error from the host (a bad suite, dataset or model) maps to 3 as well.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Exit 4.
struct PluginError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace attrib::cli
