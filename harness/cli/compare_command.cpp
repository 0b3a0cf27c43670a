#include "compare_command.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "attrib/error.h"
#include "compare.h"
#include "config.h"
#include "runner.h"

namespace {

using nlohmann::json;

const char* kCompareHelp = R"(usage: attrib compare BASELINE.json CURRENT.json [options]

Compares two results.json files (e.g. results/baselines/... and a fresh run) and lists every
metric and throughput change, regressions first, as Markdown on stdout.

Metric rows are matched by (dataset, model, method, metric). Rows whose recorded choices
(method_info, metric_info) differ are "not comparable" and the differing keys are listed. Examples
are paired by id (paired bootstrap CI of the mean difference, Wilcoxon signed-rank test), else
compared unpaired (Mann-Whitney U). A regression is worse in the metric's direction by more than
the tolerance AND p < alpha. Throughput entries are matched by (dataset, model, method, device,
batch size); a regression is a median time per repetition slower by more than the speed
tolerance AND a Mann-Whitney U test with p < alpha. Rows or timings present in the baseline but
missing or failed in the current run are regressions; new ones are reported as new.

options:
  --tolerance T        smallest metric change that counts, in metric units (default 0.01)
  --relative           T is a fraction of |baseline mean| instead
  --speed-tolerance S  slowdown that counts, as a fraction of the baseline median (default 0.10)
  --alpha A            significance level of the tests; CIs are 1 - A (default 0.05)
  --resamples N        bootstrap resamples for the CIs (default 2000; 0: none)
  --seed N             bootstrap seed (default 0)
  --markdown FILE      also write the Markdown summary to FILE
  --json FILE          write the JSON report (json_schema_version, both runs' context) to FILE
  --quiet              do not print the Markdown summary
  -h, --help           this help

exit codes: 0 no regression, 6 at least one regression, 2 usage error, 3 invalid input (an
unreadable or malformed results file: the message names the file and the JSON path, e.g.
"base.json: rows[3].scores: expected array of numbers, got string"), 1 internal error
)";

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

double parse_number(const std::string& opt, const std::string& v, double min, bool min_open,
                    double max = HUGE_VAL) {
  double x = 0.0;
  std::size_t pos = 0;
  bool ok = true;
  try {
    x = std::stod(v, &pos);
  } catch (const std::exception&) {
    ok = false;
  }
  ok = ok && pos == v.size() && std::isfinite(x) && (min_open ? x > min : x >= min) && x < max;
  if (!ok) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%g", min_open ? "> " : ">= ", min);
    std::string range = buf;
    if (max != HUGE_VAL) {
      std::snprintf(buf, sizeof buf, " and < %g", max);
      range += buf;
    }
    throw Usage(opt + ": expected a number " + range + ", got \"" + v + "\"");
  }
  return x;
}

// Through a temporary name and a rename: a full disk never leaves a half-written report.
void write_text(const std::string& path, const std::string& text) {
  attrib::write_file_atomically(path, text);
}

}  // namespace

int attrib_compare_command(const std::vector<std::string>& args) {
  try {
    std::vector<std::string> positional;
    attrib::CompareOptions options;
    std::string markdown_file, json_file;
    bool quiet = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      std::string name = a, inline_value;
      bool has_inline = false;
      if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
        name = a.substr(0, a.find('='));
        inline_value = a.substr(a.find('=') + 1);
        has_inline = true;
      }
      auto value = [&]() -> std::string {
        if (has_inline) return inline_value;
        if (i + 1 >= args.size()) throw Usage(name + ": expected a value");
        return args[++i];
      };
      if (name == "-h" || name == "--help") {
        std::cout << kCompareHelp;
        return 0;
      } else if (name == "--tolerance") {
        options.tolerance = parse_number(name, value(), 0.0, false);
      } else if (name == "--relative") {
        options.relative_tolerance = true;
      } else if (name == "--speed-tolerance") {
        options.speed_tolerance = parse_number(name, value(), 0.0, false);
      } else if (name == "--alpha") {
        options.alpha = parse_number(name, value(), 0.0, true, 1.0);
      } else if (name == "--resamples") {
        const std::string v = value();
        const double x = parse_number(name, v, 0.0, false, 1e8);
        if (std::floor(x) != x) throw Usage(name + ": expected an integer >= 0, got \"" + v + "\"");
        options.bootstrap_resamples = static_cast<int>(x);
      } else if (name == "--seed") {
        const std::string v = value();
        const double x = parse_number(name, v, 0.0, false, 9007199254740992.0);
        if (std::floor(x) != x) throw Usage(name + ": expected an integer >= 0, got \"" + v + "\"");
        options.seed = static_cast<std::uint64_t>(x);
      } else if (name == "--markdown") {
        markdown_file = value();
      } else if (name == "--json") {
        json_file = value();
      } else if (name == "--quiet") {
        quiet = true;
      } else if (a.size() > 1 && a[0] == '-') {
        throw Usage("unknown option " + a);
      } else {
        positional.push_back(a);
      }
    }
    if (positional.size() != 2)
      throw Usage("expected BASELINE.json and CURRENT.json, got " +
                  std::to_string(positional.size()) + " file(s)");
    const json baseline = attrib::read_json_file(positional[0]);
    const json current = attrib::read_json_file(positional[1]);
    const json report =
        attrib::compare_results(baseline, current, options, positional[0], positional[1]);
    const std::string md = attrib::compare_markdown(report);
    if (!quiet) std::cout << md;
    if (!markdown_file.empty()) write_text(markdown_file, md);
    if (!json_file.empty())
      write_text(json_file, report.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
    const std::size_t regressions = report["summary"]["regressions"].get<std::size_t>();
    if (regressions > 0)
      std::cerr << "attrib compare: " << regressions << " regression(s) against " << positional[0]
                << "\n";
    return report["summary"]["exit_code"].get<int>();
  } catch (const Usage& e) {
    std::cerr << "attrib compare: " << e.what() << " (see attrib compare --help)\n";
    return 2;
  } catch (const attrib::Error& e) {
    std::cerr << "attrib compare: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::string s = e.what();
    std::cerr << "attrib compare: internal error: " << s.substr(0, s.find('\n')) << "\n";
    return 1;
  }
}
