// The report's cost section: where a run's time went, per (dataset, model): each method's
// explanations and each metric's scoring (summed over the methods), with the model rows behind
// them and, for metrics, the share of the time spent inside model calls.
#include <map>
#include <tuple>
#include <vector>

#include "json_values.h"
#include "report/html.h"
#include "report/sections.h"
#include "scoring_cost.h"

namespace attrib::report {

using nlohmann::json;

namespace {

struct Stage {
  std::string kind, name;
  double seconds = 0, model_seconds = 0;
  int64_t forward_rows = 0, backward_rows = 0, saved_rows = 0;
  bool rows_known = true, metered = false;
};

double number(const json& j, const char* key) {
  const json& v = at_or_null(j, key);
  return v.is_number() ? v.get<double>() : 0.0;
}

std::string text(const json& j, const char* key) {
  const json& v = at_or_null(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// A numeric cell that sorts by its value (the page's table.sort script reads data-v).
std::string cell(double v, const std::string& shown) {
  return "<td class=\"n\" data-v=\"" + fmt(v, 6) + "\">" + shown + "</td>";
}

}  // namespace

std::string cost_section(const json& doc) {
  std::string out =
      "<section id=\"cost\"><h2>Where the time went</h2><p>Per dataset and model: each method's "
      "explanations and each metric's scoring, summed over the methods it scored (units read "
      "from the store count the seconds they took when computed). Model rows: rows forwarded "
      "(and, for gradient methods, differentiated); rows saved: rows taken from outputs shared "
      "between metrics and methods instead of forwarded again; \"in model\": the share of a "
      "metric's time spent inside model calls, the rest is the harness and the metric.</p>";
  using Key = std::tuple<std::string, std::string>;
  std::map<Key, std::vector<Stage>> groups;
  std::vector<Key> order;
  auto stage = [&](const json& e, const std::string& kind, const std::string& name) -> Stage& {
    const Key k{text(e, "dataset"), text(e, "model")};
    if (!groups.count(k)) order.push_back(k);
    std::vector<Stage>& stages = groups[k];
    for (Stage& s : stages)
      if (s.kind == kind && s.name == name) return s;
    stages.push_back(Stage{kind, name});
    return stages.back();
  };
  const json& explanations = at_or_null(doc, "explanations");
  if (explanations.is_array())
    for (const json& e : explanations) {
      if (text(e, "status") != "ok") continue;
      Stage& s = stage(e, "explain", text(e, "method"));
      s.seconds += number(e, "seconds");
      s.forward_rows += static_cast<int64_t>(number(e, "forward_rows"));
      s.backward_rows += static_cast<int64_t>(number(e, "backward_rows"));
    }
  for (const MetricCost& c : metric_costs(doc)) {
    Stage& s = stage({{"dataset", c.dataset}, {"model", c.model}}, "metric", c.metric);
    s.metered = true;
    s.seconds = c.seconds;
    s.rows_known = c.rows_known;
    s.forward_rows = c.forward_rows;
    s.saved_rows = c.saved_rows;
    s.model_seconds = c.model_seconds;
  }
  if (order.empty())
    return out + "<p class=\"note\">No explanation or scoring times in this run.</p></section>";
  for (const Key& k : order) {
    const auto& [dataset, model] = k;
    const std::vector<Stage>& stages = groups[k];
    double total = 0;
    for (const Stage& s : stages) total += s.seconds;
    out += "<div class=\"board\" id=\"" + anchor({"cost", dataset, model}) + "\"><h3>" +
           escape(dataset) + " / " + escape(model) + " <small>" + fmt(total) +
           " s in explanations and metrics</small></h3><table class=\"sort\"><thead><tr>"
           "<th>stage</th><th>name</th><th>seconds</th><th>share</th><th>model rows</th>"
           "<th>rows saved</th><th>in model</th></tr></thead><tbody>";
    for (const Stage& s : stages) {
      const double share = total > 0 ? s.seconds / total : 0;
      const std::string rows = !s.rows_known         ? "—"
                               : s.backward_rows > 0 ? fmt(s.forward_rows, 9) + " + " +
                                                           fmt(s.backward_rows, 9) + " backward"
                                                     : fmt(s.forward_rows, 9);
      out +=
          "<tr><td>" + s.kind + "</td><td>" + escape(s.name) + "</td>" +
          cell(s.seconds, fmt(s.seconds)) +
          cell(share, std::to_string(static_cast<int>(100 * share + 0.5)) + " %") +
          cell(s.rows_known ? s.forward_rows + s.backward_rows : -1, rows) +
          (s.metered && s.rows_known ? cell(s.saved_rows, fmt(s.saved_rows, 9)) : cell(-1, "—")) +
          (s.metered && s.rows_known && s.seconds > 0
               ? cell(s.model_seconds / s.seconds, fmt(s.model_seconds / s.seconds, 2))
               : cell(-1, "—")) +
          "</tr>";
    }
    out += "</tbody></table></div>";
  }
  return out + "</section>";
}

}  // namespace attrib::report
