// `attrib report RUN_DIR`: (re)builds a run's HTML report from its results.json and store.
#include "report/report.h"

#include <filesystem>
#include <iostream>

#include "command.h"

namespace fs = std::filesystem;

namespace attrib::cli {

namespace {

void add_options(CLI::App& app) {
  app.description(
      "Writes one self-contained HTML page (no network; charts render without JavaScript) from\n"
      "RUN_DIR/results.json and the attributions in RUN_DIR/store.sqlite: run header and errors,\n"
      "leaderboards with forest plots, randomisation, throughput, agreement heatmaps and an\n"
      "example explorer. `attrib run` writes it as OUT/report.html; this rebuilds it, e.g. after\n"
      "a resumed run.");
  add_value(app, "--out", "FILE", "output file (default RUN_DIR/report.html)");
  add_value(app, "--examples", "N",
            "most examples per dataset and model in the explorer (default 50; 0: none)");
  app.add_flag("--no-store", "leave the store out (no example explorer)");
}

int run(const Args& args) {
  if (args.positional().size() != 1)
    throw UsageError("expected one RUN_DIR, got " + std::to_string(args.positional().size()));
  const std::string dir = args.positional()[0];
  if (!fs::is_directory(dir)) throw InputError(dir + ": not a folder");
  ReportOptions options;
  options.examples = args.integer("--examples", options.examples, 0);
  const std::string out = args.value("--out", (fs::path(dir) / "report.html").string());
  const size_t bytes = write_report(dir, out, options, !args.flag("--no-store"));
  std::cerr << "attrib report: " << out << " (" << (bytes + 500) / 1000 << " kB)\n";
  return kOk;
}

}  // namespace

const Command kReportCommand = {
    "report",
    "RUN_DIR",
    "write a run's self-contained HTML report (charts, leaderboards, example explorer)",
    "RUN_DIR [--out FILE] [--examples N] [--no-store]",
    add_options,
    run,
};

}  // namespace attrib::cli
