#include "scoring_cost.h"

#include <algorithm>

#include "json_values.h"

namespace attrib {

std::vector<MetricCost> metric_costs(const nlohmann::json& doc) {
  std::vector<MetricCost> out;
  const nlohmann::json& scoring = at_or_null(doc, "scoring");
  if (!scoring.is_array()) return out;
  for (const nlohmann::json& e : scoring) {
    if (!e.is_object()) continue;
    const std::string dataset = e.value("dataset", ""), model = e.value("model", ""),
                      metric = e.value("metric", "");
    auto it = std::find_if(out.begin(), out.end(), [&](const MetricCost& c) {
      return c.dataset == dataset && c.model == model && c.metric == metric;
    });
    if (it == out.end()) it = out.insert(out.end(), MetricCost{dataset, model, metric});
    it->seconds += e.value("seconds", 0.0);
    const nlohmann::json& rows = at_or_null(e, "forward_rows");
    if (!rows.is_number_integer()) {
      it->rows_known = false;
      continue;
    }
    it->forward_rows += rows.get<int64_t>();
    it->saved_rows += e.value("saved_rows", int64_t{0});
    it->model_seconds += e.value("model_seconds", 0.0);
  }
  return out;
}

}  // namespace attrib
