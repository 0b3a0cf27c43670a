// `attrib metrics`: lists the metric catalogue with parameters and reference profiles.
#include <iostream>

#include "command.h"
#include "metric.h"

using nlohmann::json;

namespace attrib::cli {

namespace {

void add_options(CLI::App& app) {
  app.description(
      "Lists the metrics with their family, direction, needs, parameters and reference profiles "
      "(the\nparameter sets that reproduce ERASER, ferret, Quantus or OpenXAI numbers: "
      "\"profile\" in a suite).");
  app.add_flag("--json", "print the list as JSON");
}

int run(const Args& args) {
  if (!args.positional().empty())
    throw UsageError("unexpected argument \"" + args.positional()[0] + "\"");
  const bool as_json = args.flag("--json");
  json doc = json::array();
  for (const auto& m : metric_catalogue()) {
    json profiles = json::array();
    for (const auto& p : m.profiles)
      profiles.push_back({{"name", p.name}, {"reference", p.reference}, {"params", p.params}});
    if (as_json) {
      doc.push_back({{"name", m.name},
                     {"family", m.family},
                     {"description", m.description},
                     {"citation", m.citation},
                     {"direction", m.direction > 0 ? "higher is better" : "lower is better"},
                     {"needs", m.needs},
                     {"params", m.params},
                     {"profiles", profiles}});
    } else {
      std::cout << m.name << " [" << m.family << "] " << (m.direction > 0 ? "(higher" : "(lower")
                << " is better)\n    " << m.description << "\n"
                << render_params(m.params);
      for (const auto& p : m.profiles)
        std::cout << "    profile " << p.name << ": " << p.reference << "\n      sets "
                  << p.params.dump() << "\n";
    }
  }
  if (as_json) std::cout << doc.dump(2) << "\n";
  return kOk;
}

}  // namespace

const Command kMetricsCommand = {
    "metrics", "", "list the metrics with their parameters", "[--json]", add_options, run,
};

}  // namespace attrib::cli
