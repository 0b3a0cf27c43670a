#pragma once
// The command table's entry type and the helpers that every command shares: reading option
// values off a parsed CLI11 subcommand with attrib's messages, strict number parsing, KEY=VALUE
// lists and the plugin search path.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "exit_codes.h"

namespace attrib {
class Registry;
}

namespace attrib::cli {

class Args;

/// One `attrib COMMAND`. main.cpp builds a CLI11 subcommand from each entry; the help text is
/// "usage: attrib NAME USAGE", the subcommand's description, its options and its footer.
struct Command {
  const char* name;
  const char* synopsis;  // positional form for the command list, e.g. "[SUITE.json]"
  const char* summary;   // one line for `attrib --help`
  const char* usage;     // the rest of the usage line
  void (*add_options)(CLI::App&);
  int (*run)(const Args&);
  // Options with this prefix are not attrib's: they are passed through to the command (bench:
  // Google Benchmark's --benchmark_* flags) instead of being rejected as unknown.
  const char* passthrough_prefix = nullptr;
};

/// The parsed arguments of one command, read with the messages attrib has always given (CLI11
/// only collects them: every option takes all its occurrences, positional arguments and unknown
/// options stay in remaining()).
class Args {
 public:
  Args(const CLI::App& app, const Command& command, std::vector<std::string> command_line);
  const std::string& command() const { return name_; }
  /// The whole argv, recorded in results.
  const std::vector<std::string>& command_line() const { return command_line_; }
  bool flag(const std::string& name) const;
  /// Every value of a repeatable option, in order.
  std::vector<std::string> values(const std::string& name) const;
  /// A single-valued option: `fallback` when absent; given twice is a usage error.
  std::string value(const std::string& name, const std::string& fallback = "") const;
  bool given(const std::string& name) const;
  /// value() parsed as an integer >= minimum (strictly: the whole text, no sign games).
  int64_t integer(const std::string& name, int64_t fallback, int64_t minimum) const;
  /// Positional arguments in order.
  const std::vector<std::string>& positional() const { return positional_; }
  /// Passed-through options (see Command::passthrough_prefix).
  const std::vector<std::string>& passthrough() const { return passthrough_; }

 private:
  const CLI::Option* option(const std::string& name) const;
  const CLI::App& app_;
  std::string name_;
  std::vector<std::string> command_line_, positional_, passthrough_;
};

/// Declares an option that takes a value; `value_name` shows in the help (e.g. "DIR").
CLI::Option* add_value(CLI::App& app, const std::string& name, const std::string& value_name,
                       const std::string& description);

/// Strict integer: the whole of `text`, >= minimum, else a UsageError naming `option` and `text`.
int64_t parse_integer(const std::string& option, const std::string& text, int64_t minimum);

/// Strict finite number in a range, else "OPTION: expected a number >= 0 and < 1, got \"TEXT\"".
struct Range {
  double minimum = 0.0;
  bool minimum_open = false;  // > minimum instead of >=
  double below = HUGE_VAL;    // exclusive upper bound
};
double parse_number(const std::string& option, const std::string& text, Range range);

/// KEY=VALUE items of a repeatable option as a JSON object; VALUE is parsed as JSON, else taken
/// as a string. A missing '=' or a key given twice is a usage error; a value that is not valid
/// JSON-like input (e.g. 1e400) is invalid input naming "OPTION KEY".
nlohmann::json key_values(const std::vector<std::string>& items, const std::string& option);

/// Loads plugins from --plugin-dir folders, then $ATTRIB_PLUGIN_PATH, then the built-in folder.
void load_plugins(Registry& registry, const std::vector<std::string>& plugin_dirs);
/// "plugin load error: ..." lines on stderr.
void report_load_errors(const Registry& registry);

/// A plugin's or metric's parameter schema as indented help lines.
std::string render_params(const nlohmann::json& schema);

// The command table's entries, one per file in commands/.
extern const Command kRunCommand;
extern const Command kExplainCommand;
extern const Command kPluginsCommand;
extern const Command kMetricsCommand;
extern const Command kDataCommand;
extern const Command kTrainCommand;
extern const Command kBenchCommand;
extern const Command kCompareCommand;
extern const Command kExportCommand;
extern const Command kMergeCommand;
extern const Command kReportCommand;

}  // namespace attrib::cli
