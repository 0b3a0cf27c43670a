// `attrib compare BASELINE.json CURRENT.json`: regression tracking between two runs.
#include "compare.h"

#include <cmath>
#include <iostream>

#include "attrib/error.h"
#include "command.h"
#include "config.h"
#include "runner.h"

using nlohmann::json;

namespace attrib::cli {

namespace {

void add_options(CLI::App& app) {
  app.description(
      "Compares two results.json files (e.g. results/baselines/... and a fresh run) and lists "
      "every\nmetric and throughput change, regressions first, as Markdown on stdout.\n\n"
      "Metric rows are matched by (dataset, model, method, metric). Rows whose recorded "
      "choices\n(method_info, metric_info) differ are \"not comparable\" and the differing keys "
      "are listed. Examples\nare paired by id (paired bootstrap CI of the mean difference, "
      "Wilcoxon signed-rank test), else\ncompared unpaired (Mann-Whitney U). A regression is "
      "worse in the metric's direction by more than\nthe tolerance AND p < alpha. Throughput "
      "entries are matched by (dataset, model, method, device,\nbatch size); a regression is a "
      "median time per repetition slower by more than the speed\ntolerance AND a Mann-Whitney U "
      "test with p < alpha.\nModel rows (each method's explanations, each metric's scoring) do "
      "not depend on the machine:\nwith the same choices, examples and methods, any increase is "
      "a regression. Rows or timings\npresent in the baseline but missing or failed in the "
      "current run are regressions; new ones\nare reported as new.");
  add_value(app, "--tolerance", "T",
            "smallest metric change that counts, in metric units (default 0.01)");
  app.add_flag("--relative", "T is a fraction of |baseline mean| instead");
  add_value(app, "--speed-tolerance", "S",
            "slowdown that counts, as a fraction of the baseline median (default 0.10)");
  add_value(app, "--alpha", "A", "significance level of the tests; CIs are 1 - A (default 0.05)");
  add_value(app, "--resamples", "N", "bootstrap resamples for the CIs (default 2000; 0: none)");
  add_value(app, "--seed", "N", "bootstrap seed (default 0)");
  add_value(app, "--markdown", "FILE", "also write the Markdown summary to FILE");
  add_value(app, "--json", "FILE",
            "write the JSON report (json_schema_version, both runs' context) to FILE");
  app.add_flag("--quiet", "do not print the Markdown summary");
  app.footer(
      "exit codes: 0 no regression, 6 at least one regression, 2 usage error, 3 invalid input "
      "(an\nunreadable or malformed results file: the message names the file and the JSON path, "
      "e.g.\n\"base.json: rows[3].scores: expected array of numbers, got string\"), 1 internal "
      "error");
}

// A whole number given as a number (1e3 is accepted, as before) below `below`.
double whole_number(const Args& args, const std::string& option, double below, double fallback) {
  if (!args.given(option)) return fallback;
  const std::string v = args.value(option);
  const double x = parse_number(option, v, {0.0, false, below});
  if (std::floor(x) != x)
    throw UsageError(option + ": expected an integer >= 0, got \"" + v + "\"");
  return x;
}

double number(const Args& args, const std::string& option, Range range, double fallback) {
  return args.given(option) ? parse_number(option, args.value(option), range) : fallback;
}

int run(const Args& args) {
  CompareOptions options;
  options.tolerance = number(args, "--tolerance", {0.0, false}, options.tolerance);
  options.relative_tolerance = args.flag("--relative");
  options.speed_tolerance =
      number(args, "--speed-tolerance", {0.0, false}, options.speed_tolerance);
  options.alpha = number(args, "--alpha", {0.0, true, 1.0}, options.alpha);
  options.bootstrap_resamples =
      static_cast<int>(whole_number(args, "--resamples", 1e8, options.bootstrap_resamples));
  options.seed = static_cast<std::uint64_t>(
      whole_number(args, "--seed", 9007199254740992.0, static_cast<double>(options.seed)));
  const std::string markdown_file = args.value("--markdown");
  const std::string json_file = args.value("--json");
  const auto& positional = args.positional();
  if (positional.size() != 2)
    throw UsageError("expected BASELINE.json and CURRENT.json, got " +
                     std::to_string(positional.size()) + " file(s)");
  const json baseline = read_json_file(positional[0]);
  const json current = read_json_file(positional[1]);
  const json report = compare_results(baseline, current, options, positional[0], positional[1]);
  const std::string md = compare_markdown(report);
  if (!args.flag("--quiet")) std::cout << md;
  // Through a temporary name and a rename: a full disk never leaves a half-written report.
  if (!markdown_file.empty()) write_file_atomically(markdown_file, md);
  if (!json_file.empty())
    write_file_atomically(json_file,
                          report.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  const std::size_t regressions = report["summary"]["regressions"].get<std::size_t>();
  if (regressions > 0)
    std::cerr << "attrib compare: " << regressions << " regression(s) against " << positional[0]
              << "\n";
  return report["summary"]["exit_code"].get<int>();  // kOk or kRegression
}

}  // namespace

const Command kCompareCommand = {
    "compare",
    "BASE CUR",
    "compare two results.json files; lists regressions",
    "BASELINE.json CURRENT.json [options]",
    add_options,
    run,
};

}  // namespace attrib::cli
