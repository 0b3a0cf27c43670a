// The report's curves: mean deletion and insertion curves per method with a 95 % band, from the
// per-example curves the run store keeps (score_curves).
#include <cmath>
#include <map>

#include "metric.h"
#include "report/html.h"
#include "report/sections.h"
#include "report/svg.h"
#include "store/store.h"

namespace attrib::report {

namespace {

/// Mean over the defined examples at each point, with mean ± 1.96 standard errors.
Series mean_curve(const std::string& method, const std::vector<double>& data) {
  Series s{method, {}, {}, {}};
  const size_t rows = data.size() / kCurvePoints;
  for (int64_t g = 0; g < kCurvePoints; ++g) {
    double sum = 0, sq = 0;
    size_t n = 0;
    for (size_t i = 0; i < rows; ++i) {
      const double v = data[i * kCurvePoints + g];
      if (std::isnan(v)) continue;
      sum += v;
      sq += v * v;
      ++n;
    }
    const double mean = n ? sum / n : NAN;
    const double var = n > 1 ? std::max(0.0, (sq - n * mean * mean) / (n - 1)) : 0.0;
    const double half = n > 1 ? 1.96 * std::sqrt(var / n) : 0.0;
    s.y.push_back(mean);
    s.low.push_back(mean - half);
    s.high.push_back(mean + half);
  }
  return s;
}

}  // namespace

std::string curves_section(RunStore* store) {
  std::string out =
      "<section id=\"curves\"><h2>Deletion and insertion curves</h2><p>The model's output for "
      "the explained class as the most relevant features are removed (deletion: lower and "
      "faster is better) or restored into an all-substrate input (insertion: higher is better), "
      "at 0–100 % of each example's features (each curve interpolated onto 21 points); the mean "
      "over examples per method, with its 95 % band (± 1.96 standard errors).</p>";
  if (store == nullptr)
    return out + "<p class=\"note\">No run store: the curves cannot be shown.</p></section>";
  std::map<std::string, std::vector<Series>> charts;  // (dataset, model, metric) -> methods
  std::map<std::string, std::string> titles;
  for (const RunStore::Curves& c : store->latest_curves()) {
    const std::string key = c.dataset + '\n' + c.model + '\n' + c.metric;
    titles[key] = c.dataset + " / " + c.model + ": " + c.metric;
    charts[key].push_back(mean_curve(c.method, c.data));
  }
  if (charts.empty())
    return out + "<p class=\"note\">The run has no deletion or insertion curves.</p></section>";
  std::vector<std::string> x;
  for (int64_t g = 0; g < kCurvePoints; ++g)
    x.push_back(g % 4 == 0 ? std::to_string(g * 100 / (kCurvePoints - 1)) + "%" : "");
  out += "<div class=\"charts\">";
  for (const auto& [key, series] : charts) {
    double lo = INFINITY, hi = -INFINITY;
    for (const Series& s : series)
      for (size_t i = 0; i < s.y.size(); ++i)
        if (!std::isnan(s.y[i])) lo = std::min(lo, s.low[i]), hi = std::max(hi, s.high[i]);
    out += line_chart(x, series, titles[key], "output", std::isfinite(lo) ? lo : 0.0,
                      std::isfinite(hi) ? hi : 1.0);
  }
  return out + "</div></section>";
}

}  // namespace attrib::report
