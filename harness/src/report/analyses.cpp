// The analyses of the report: randomisation sanity checks, throughput and agreement.
#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "json_values.h"
#include "report/html.h"
#include "report/sections.h"
#include "report/svg.h"

namespace attrib::report {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* key) {
  const json& v = at_or_null(j, key);
  return v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
}

const json& entries_of(const json& doc, const char* analysis) {
  static const json empty = json::array();
  const json& a = at_or_null(doc, analysis);
  return a.is_array() ? a : empty;
}

std::string absent(const char* what, const char* suite_key) {
  return std::string("<p class=\"note\">No ") + what + " in this run (the suite has no \"" +
         suite_key + "\" block, or it failed: see the errors above).</p>";
}

using Key = std::tuple<std::string, std::string>;  // (dataset, model)

bool failed(const json& entry) { return at_or_null(entry, "error").is_string(); }

/// The entries that failed (a method whose explanations failed), listed instead of charted.
std::string failed_entries(const json& all) {
  std::string out;
  for (const json& e : all)
    if (failed(e))
      out += "<li><b>" + escape(str(e, "method")) + "</b> on " + escape(str(e, "dataset")) + " / " +
             escape(str(e, "model")) + ": <span class=\"err\">" + escape(str(e, "error")) +
             "</span></li>";
  return out.empty() ? "" : "<ul class=\"errors\">" + out + "</ul>";
}

/// The verdicts of the decisive similarity: method x test, pass or fail.
std::string verdict_table(const std::vector<const json*>& entries) {
  std::vector<std::string> tests, methods;
  std::map<std::pair<std::string, std::string>, std::string> cell;
  for (const json* e : entries) {
    const json& passes = at_or_null(*e, "passes");
    const json& choices = at_or_null(*e, "choices");
    if (!passes.is_boolean() || str(*e, "similarity") != str(choices, "decisive")) continue;
    const std::string test = str(*e, "test"), method = str(*e, "method");
    if (std::find(tests.begin(), tests.end(), test) == tests.end()) tests.push_back(test);
    if (std::find(methods.begin(), methods.end(), method) == methods.end())
      methods.push_back(method);
    cell[{method, test}] = passes.get<bool>() ? "pass" : "fail";
  }
  if (methods.empty()) return "";
  std::string out = "<table class=\"sort\"><thead><tr><th>method</th>";
  for (const std::string& t : tests) out += "<th>" + escape(t) + "</th>";
  out += "</tr></thead><tbody>";
  for (const std::string& m : methods) {
    out += "<tr><td>" + escape(m) + "</td>";
    for (const std::string& t : tests) {
      const auto it = cell.find({m, t});
      const std::string v = it == cell.end() ? "—" : it->second;
      out += "<td class=\"" + v + "\">" + v + "</td>";
    }
    out += "</tr>";
  }
  return out + "</tbody></table>";
}

}  // namespace

std::string randomisation_section(const json& doc) {
  std::string out =
      "<section id=\"randomisation\"><h2>Randomisation sanity checks</h2><p>Similarity of each "
      "method's map on the randomised model to its map on the trained model (Adebayo et al. "
      "2018). Cascading randomises the layers from the output layer down (x axis: the last "
      "layer randomised so far); independent randomises one layer at a time; random logit "
      "explains another class; data retrains on permuted labels. A method passes when the upper "
      "CI bound of the decisive similarity at the end point is below the dashed threshold: its "
      "map depends on the model.</p>";
  const json& all = entries_of(doc, "randomisation");
  if (all.empty()) return out + absent("randomisation results", "randomisation") + "</section>";
  std::map<Key, std::vector<const json*>> groups;
  std::vector<Key> order;
  out += failed_entries(all);
  for (const json& e : all) {
    if (failed(e)) continue;
    const Key k{str(e, "dataset"), str(e, "model")};
    if (!groups.count(k)) order.push_back(k);
    groups[k].push_back(&e);
  }
  for (const Key& k : order) {
    const auto& [dataset, model] = k;
    out += "<div class=\"board\" id=\"" + anchor({"rnd", dataset, model}) + "\"><h3>" +
           escape(dataset) + " / " + escape(model) + "</h3>" + verdict_table(groups[k]) +
           "<div class=\"charts\">";
    // One chart per (test, similarity), in the order the entries come.
    std::vector<std::pair<std::string, std::string>> charts;
    for (const json* e : groups[k]) {
      const std::pair<std::string, std::string> c{str(*e, "test"), str(*e, "similarity")};
      if (std::find(charts.begin(), charts.end(), c) == charts.end()) charts.push_back(c);
    }
    for (const auto& [test, similarity] : charts) {
      std::vector<std::string> layers;
      std::vector<Series> series;
      std::vector<ForestRow> points;
      double threshold = NAN;
      for (const json* e : groups[k]) {
        if (str(*e, "test") != test || str(*e, "similarity") != similarity) continue;
        const json& choices = at_or_null(*e, "choices");
        // The threshold only where it decides a verdict (not for the independent test).
        if (str(choices, "decisive") == similarity && at_or_null(*e, "passes").is_boolean())
          threshold = get_num(choices, "fail_threshold");
        const json& ls = at_or_null(*e, "layers");
        if (ls.is_array() && !ls.empty()) {
          Series s{str(*e, "method"), {}, {}, {}};
          for (size_t i = 0; i < ls.size(); ++i) {
            if (layers.size() <= i) layers.push_back(str(ls[i], "layer"));
            s.y.push_back(get_num(ls[i], "mean"));
            s.low.push_back(get_num(ls[i], "ci_low"));
            s.high.push_back(get_num(ls[i], "ci_high"));
          }
          series.push_back(std::move(s));
        } else {
          const json& sc = at_or_null(*e, "score");
          const json& passes = at_or_null(*e, "passes");
          ForestRow r{str(*e, "method"),
                      get_num(sc, "mean"),
                      get_num(sc, "ci_low"),
                      get_num(sc, "ci_high"),
                      false,
                      false,
                      ""};
          if (passes.is_boolean()) r.label += passes.get<bool>() ? " (pass)" : " (fail)";
          if (!std::isfinite(r.mean)) r.note = "no defined similarity";
          points.push_back(std::move(r));
        }
      }
      const std::string title = test + ": " + similarity;
      if (!series.empty())
        out += line_chart(layers, series, title + " per randomised layer", similarity, 0.0, 1.0,
                          threshold, "fail threshold");
      if (!points.empty())
        out += forest_plot(points, -1, title + " (mean, 95 % CI)", threshold, "fail threshold");
    }
    out += "</div></div>";
  }
  return out + "</section>";
}

std::string throughput_section(const json& doc) {
  std::string out =
      "<section id=\"throughput\"><h2>Throughput</h2><p>Explanations per second (median of the "
      "timed repetitions; the whisker spans min to max) per method, against the model's own "
      "forward+backward pass on the same examples (grey bar, dashed line): a method near the line "
      "costs about one gradient. \"% of limit\" is the share of the model's own best speed "
      "(rows/s at its best rows per call, forward alone or with backward) reached for the model "
      "rows the method needs.</p>";
  const json& all = entries_of(doc, "throughput");
  if (all.empty()) return out + absent("throughput results", "throughput") + "</section>";
  using TKey = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<TKey, std::vector<const json*>> groups;
  std::vector<TKey> order;
  out += failed_entries(all);
  for (const json& e : all) {
    if (failed(e)) continue;
    const TKey k{str(e, "dataset"), str(e, "model"), str(e, "device"), str(e, "batch_size")};
    if (!groups.count(k)) order.push_back(k);
    groups[k].push_back(&e);
  }
  out += "<div class=\"charts\">";
  for (const TKey& k : order) {
    const auto& [dataset, model, device, batch] = k;
    std::vector<Bar> bars;
    double reference = NAN;
    for (const json* e : groups[k]) {
      const json& eps = at_or_null(*e, "explanations_per_second");
      // The share of the model's limit (its best rows/s) reached for the rows the method needs.
      const double fraction = get_num(*e, "fraction_of_limit");
      std::string label = str(*e, "method");
      if (std::isfinite(fraction))
        label +=
            " · " + std::to_string(static_cast<int>(std::lround(100 * fraction))) + "% of limit";
      Bar b{label, get_num(eps, "median"), get_num(eps, "min"), get_num(eps, "max"),
            str(*e, "kind") == "reference"};
      if (b.reference) reference = b.value;
      bars.push_back(std::move(b));
    }
    std::stable_sort(bars.begin(), bars.end(), [](const Bar& a, const Bar& b) {
      return (std::isfinite(a.value) ? a.value : -1) > (std::isfinite(b.value) ? b.value : -1);
    });
    out += "<div id=\"" + anchor({"tp", dataset, model, device, batch}) + "\">" +
           log_bar_chart(bars, dataset + " / " + model + " · " + device + " · batch " + batch,
                         "explanations/s", reference, "forward+backward") +
           "</div>";
  }
  return out + "</div></section>";
}

std::string agreement_section(const json& doc) {
  std::string out =
      "<section id=\"agreement\"><h2>Agreement between methods</h2><p>Methods × methods: the "
      "mean over examples of each agreement measure (blue: negative, red: positive; the value is "
      "printed in each cell, the CI is in results.json). Methods that agree may still both be "
      "wrong: read this beside the leaderboards.</p>";
  const json& all = entries_of(doc, "agreement");
  if (all.empty()) return out + absent("agreement results", "agreement") + "</section>";
  for (const json& e : all) {
    const std::string dataset = str(e, "dataset"), model = str(e, "model");
    std::vector<std::string> methods;
    for (const json& m : at_or_null(e, "methods")) methods.push_back(m.get<std::string>());
    out += "<div class=\"board\" id=\"" + anchor({"agr", dataset, model}) + "\"><h3>" +
           escape(dataset) + " / " + escape(model) + " <small>" + fmt(get_num(e, "n_examples")) +
           " examples</small></h3>";
    size_t i = 0;
    for (const json& m : at_or_null(e, "measures")) {
      std::vector<std::vector<double>> values;
      for (const json& row : at_or_null(m, "mean")) {
        std::vector<double> r;
        for (const json& v : row) r.push_back(v.is_number() ? v.get<double>() : NAN);
        values.push_back(std::move(r));
      }
      const std::string measure = str(m, "measure");
      // The first two measures open; the rest a click away (still rendered without JavaScript:
      // <details> is plain HTML).
      out += std::string("<details") + (i++ < 2 ? " open" : "") + "><summary>" + escape(measure) +
             " <small>" + escape(str(m, "definition")) + "</small></summary>" +
             heatmap(methods, values, dataset + " / " + model + ": " + measure) + "</details>";
    }
    out += "</div>";
  }
  return out + "</section>";
}

}  // namespace attrib::report
