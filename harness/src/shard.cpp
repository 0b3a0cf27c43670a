#include "shard.h"

#include <algorithm>
#include <numeric>

#include "attrib/error.h"
#include "cost.h"
#include "explain.h"

namespace attrib {

ShardSpec parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  auto number = [&](const std::string& s) -> int64_t {
    if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos)
      return -1;
    return std::stoll(s);
  };
  const int64_t k = slash == std::string::npos ? -1 : number(text.substr(0, slash));
  const int64_t n = slash == std::string::npos ? -1 : number(text.substr(slash + 1));
  if (k < 1 || n < 1 || k > n || n > 100000)
    throw Error("--shard: expected K/N with 1 <= K <= N <= 100000 (e.g. 2/4), got \"" + text +
                "\"");
  return {k, n};
}

void ShardPlanner::plan(const PreparedModel& p, const SuiteConfig& suite,
                        const Registry& registry) {
  struct Unit {
    size_t method, batch;
    double cost;
  };
  std::vector<Unit> units;
  const std::vector<int64_t> features = features_per_example(p.batches);
  owner_.assign(suite.methods.size(), std::vector<int64_t>(p.batches.size(), 0));
  for (size_t m = 0; m < suite.methods.size(); ++m) {
    const PluginInfo* plugin = registry.find(suite.methods[m].plugin, ATTRIB_KIND_METHOD);
    size_t first = 0;
    for (size_t b = 0; b < p.batches.size(); ++b) {
      const auto n = static_cast<size_t>(p.batches[b].size());
      const std::vector<int64_t> f(features.begin() + first, features.begin() + first + n);
      first += n;
      std::optional<double> rows;
      if (plugin) rows = estimate_rows(plugin->metadata, suite.methods[m].params, f);
      const double cost = (rows ? *rows : kUnknownRowsPerExample * n) +
                          kMetricRowsPerExample * n * suite.metrics.size();
      units.push_back({m, b, cost});
    }
  }
  // Round-robin over the same units, for the balance report.
  naive_.resize(loads_.size(), 0.0);
  for (const Unit& u : units) naive_[naive_next_++ % naive_.size()] += u.cost;
  std::stable_sort(units.begin(), units.end(),
                   [](const Unit& a, const Unit& b) { return a.cost > b.cost; });
  for (const Unit& u : units) {
    const auto least =
        static_cast<size_t>(std::min_element(loads_.begin(), loads_.end()) - loads_.begin());
    loads_[least] += u.cost;
    owner_[u.method][u.batch] = static_cast<int64_t>(least);
  }
}

bool ShardPlanner::owns(size_t method, size_t batch) const {
  return owner_.at(method).at(batch) == spec_.index - 1;
}

}  // namespace attrib
