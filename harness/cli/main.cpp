// attrib command-line interface: the command table, CLI11 parsing, dispatch, and the one place
// where exceptions become exit codes (exit_codes.h lists them; README and `attrib --help` too).
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "attrib/error.h"
#include "commands/command.h"
#include "help_format.h"
#include "memory_policy.h"
#include "registry.h"

namespace cli = attrib::cli;

namespace {

// `attrib --help` lists the commands in this order.
const std::vector<cli::Command>& command_table() {
  static const std::vector<cli::Command> table = {
      cli::kRunCommand,    cli::kExplainCommand, cli::kPluginsCommand, cli::kMetricsCommand,
      cli::kDataCommand,   cli::kTrainCommand,   cli::kBenchCommand,   cli::kCompareCommand,
      cli::kExportCommand, cli::kMergeCommand,   cli::kReportCommand,
  };
  return table;
}

const cli::Command* find_command(const std::string& name) {
  for (const auto& c : command_table())
    if (name == c.name) return &c;
  return nullptr;
}

// The CLI11 app: one subcommand per table entry. CLI11 only collects: every option keeps all its
// occurrences (Args::value reports a repeated single-valued one), and positional arguments and
// unknown options stay in remaining(), so that the messages are attrib's own.
void build_app(CLI::App& app) {
  app.formatter(std::make_shared<cli::HelpFormatter>(command_table()));
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.allow_extras();
  app.require_subcommand(0, 1);
  app.add_flag("--version", "attrib's version, plugin ABI and build fingerprint");
  for (const auto& c : command_table()) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    sub->allow_extras();
    c.add_options(*sub);
  }
  app.add_subcommand("help", "the command list, or a command's help")->allow_extras();
}

void print_help(const CLI::App& app, const std::string& command) {
  const CLI::App* about = &app;
  if (find_command(command)) about = app.get_subcommand(command);
  std::cout << app.get_formatter()->make_help(about, command, CLI::AppFormatMode::Normal);
}

// Parses, runs the command, and maps what it throws to an exit code and one stderr line.
int run_command(CLI::App& app, int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  const std::string prefix = "attrib " + command + ": ";
  try {
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      print_help(app, command);
      return cli::kOk;
    } catch (const CLI::ArgumentMismatch& e) {
      // CLI11 says "--out: 1 required DIR missing"; the option name is before the colon.
      const std::string what = e.what();
      throw cli::UsageError(what.substr(0, what.find(':')) + ": expected a value");
    } catch (const CLI::ParseError& e) {
      throw cli::UsageError(e.what());
    }
    if (app.count("--version")) {
      std::cout << "attrib " << ATTRIB_VERSION << " (ABI " << ATTRIB_ABI_VERSION << ", "
                << attrib::host_fingerprint() << ")\n";
      return cli::kOk;
    }
    const auto unknown_command = [&](const std::string& name) {
      std::cerr << "attrib: unknown command '" << name << "'\n";
      std::cerr << app.get_formatter()->make_help(&app, "", CLI::AppFormatMode::Normal);
      return cli::kUsage;
    };
    if (app.get_subcommands().empty())
      return unknown_command(app.remaining().empty() ? command : app.remaining()[0]);
    const CLI::App& sub = *app.get_subcommands()[0];
    if (sub.get_name() == "help") {  // attrib help [COMMAND]
      const auto rest = sub.remaining();
      if (!rest.empty() && !find_command(rest[0])) return unknown_command(rest[0]);
      print_help(app, rest.empty() ? "" : rest[0]);
      return cli::kOk;
    }
    const cli::Command& c = *find_command(sub.get_name());
    return c.run(cli::Args(sub, c, std::vector<std::string>(argv, argv + argc)));
  } catch (const cli::UsageError& e) {
    std::cerr << prefix << e.what() << " (see attrib " << command << " --help)\n";
    return cli::kUsage;
  } catch (const cli::InputError& e) {
    std::cerr << prefix << e.what() << "\n";
    return cli::kInput;
  } catch (const cli::PluginError& e) {
    std::cerr << prefix << e.what() << "\n";
    return cli::kPlugin;
  } catch (const attrib::Error& e) {  // a suite, dataset, model or file the host rejected
    std::cerr << prefix << e.what() << "\n";
    return cli::kInput;
  } catch (const std::exception& e) {
    const std::string s = e.what();
    std::cerr << prefix << "internal error: " << s.substr(0, s.find('\n')) << "\n";
    return cli::kInternal;
  }
}

// LibTorch's OpenMP runtime (libgomp) reads OMP_WAIT_POLICY once, when it is loaded, before
// main(). Left unset, idle pool threads spin at every barrier; when other processes want the
// cores (ctest -j2, a build, a second run) that made the default suite 3 to 9 times slower
// (README, "Measured"). The compute commands therefore re-execute attrib once with
// OMP_WAIT_POLICY=PASSIVE unless the user chose a policy. Only how threads wait changes, never a
// number. Should the re-execution fail, attrib goes on as it is.
void prefer_passive_waiting(int argc, char** argv) {
  if (argc < 2 || std::getenv("OMP_WAIT_POLICY")) return;
  const char* const compute[] = {"run", "train", "bench", "merge", "explain"};
  bool heavy = false;
  for (const char* c : compute) heavy |= std::strcmp(argv[1], c) == 0;
  if (!heavy) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);
}

}  // namespace

int main(int argc, char** argv) {
  prefer_passive_waiting(argc, argv);
  attrib::keep_freed_memory();
  CLI::App app("attrib - benchmark harness for feature-attribution methods", "attrib");
  build_app(app);
  if (argc < 2) {  // no command: the command list, as a usage error
    std::cout << app.get_formatter()->make_help(&app, "", CLI::AppFormatMode::Normal);
    return cli::kUsage;
  }
  return run_command(app, argc, argv);
}
