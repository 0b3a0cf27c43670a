// Markdown and CSV renderings of a results document's leaderboards (results.h).
#include "reporters.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "attrib/error.h"
#include "common/stats.h"
#include "json_values.h"
#include "scoring_cost.h"

namespace attrib {

namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Rendering helpers

std::string format(const char* fmt, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, x);
  return buf;
}

std::string fmt_value(const json& j) {
  if (!j.is_number()) return "—";
  return format("%.4g", j.get<double>());
}

std::string fmt_signed(const json& j) {
  if (!j.is_number()) return "—";
  return format("%+.3g", j.get<double>());
}

std::string fmt_p(const json& j) {
  if (!j.is_number()) return "—";
  const double p = j.get<double>();
  return p < 1e-4 ? "<0.0001" : format("%.3g", p);
}

std::string fmt_fraction(const json& j) {
  if (!j.is_number()) return "—";
  return format("%.3f", j.get<double>());
}

std::string fmt_rank(const json& j) {
  if (!j.is_number()) return "—";
  return format("%g", j.get<double>());
}

std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

std::string cell(const std::string& s) {
  std::string out;
  for (char c : one_line(s)) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Compact key=value rendering: strings unquoted, nested objects in braces, arrays as JSON.
std::string compact(const json& j, bool top = true) {
  if (j.is_null()) return top ? "" : "null";
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object()) {
    std::string out;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!out.empty()) out += ", ";
      out += it.key() + "=" + compact(it.value(), false);
    }
    return top ? out : "{" + out + "}";
  }
  return dump(j);
}

std::string percent(double confidence) { return format("%g", 100.0 * confidence) + "%"; }

const json* find_path(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    const auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string context_value(const json& doc,
                          std::initializer_list<std::initializer_list<const char*>> paths) {
  for (const auto& path : paths) {
    const json* v = find_path(doc, path);
    if (v != nullptr && !v->is_null() && !v->is_object())
      return v->is_string() ? v->get<std::string>() : dump(*v);
    if (v != nullptr && v->is_object()) {
      if (const json* name = find_path(*v, {"name"}); name != nullptr && name->is_string())
        return name->get<std::string>();
      return compact(*v);
    }
  }
  return "—";
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_value(const json& j) {
  if (j.is_null()) return "";
  if (j.is_string()) return csv_field(j.get<std::string>());
  return csv_field(dump(j));
}

}  // namespace

std::string leaderboard_markdown(const nlohmann::json& doc) {
  std::ostringstream md;
  const json& lb = at_or_null(doc, "leaderboards");
  const json& settings = at_or_null(lb, "settings");
  const double confidence =
      stats::is_defined(get_num(settings, "confidence")) ? get_num(settings, "confidence") : 0.95;
  const std::string pct = percent(confidence);

  md << "# attrib leaderboard\n\n";
  md << "| | |\n|---|---|\n";
  md << "| suite | " << cell(context_value(doc, {{"context", "suite"}, {"suite", "name"}}))
     << " |\n";
  md << "| seed | " << cell(context_value(doc, {{"context", "seed"}})) << " |\n";
  md << "| device | " << cell(context_value(doc, {{"context", "device"}})) << " |\n";
  md << "| threads | " << cell(context_value(doc, {{"context", "threads"}})) << " |\n";
  md << "| attrib version | "
     << cell(context_value(doc, {{"context", "attrib_version"},
                                 {"context", "versions", "attrib"},
                                 {"context", "version"},
                                 {"attrib_version"}}))
     << " |\n";
  std::string commit = context_value(
      doc, {{"context", "git_commit"}, {"context", "git", "commit"}, {"context", "git"}});
  if (const json* dirty = find_path(doc, {"context", "git_dirty"});
      dirty != nullptr && dirty->is_boolean() && dirty->get<bool>())
    commit += " (dirty)";
  md << "| git commit | " << cell(commit) << " |\n";
  md << "| results schema | " << cell(context_value(doc, {{"json_schema_version"}})) << " |\n\n";

  if (settings.is_object()) {
    md << "Statistics: " << at_or_null(settings, "ci_method").get<std::string>() << " bootstrap, "
       << dump(at_or_null(settings, "bootstrap_resamples"))
       << " paired resamples of the examples (seed " << dump(at_or_null(settings, "seed")) << "), "
       << pct << " intervals. Δ vs best: mean per-example difference to the best method "
       << "with its paired bootstrap interval; ≈: that interval contains 0. p: "
       << at_or_null(settings, "test").get<std::string>()
       << ". P(rank 1): fraction of bootstrap replicates in which the method ranks first. "
          "Undefined (NaN) scores are excluded and counted.\n\n";
  }

  const json& boards = at_or_null(lb, "boards");
  if (!boards.is_array() || boards.empty()) md << "No scores.\n";
  for (const json& board : boards.is_array() ? boards : json::array()) {
    md << "## " << cell(board.value("dataset", "")) << " / " << cell(board.value("model", ""))
       << "\n\n";
    md << board.value("n_examples", 0) << " examples.\n\n";

    // Overall.
    const json& overall = at_or_null(board, "overall");
    const json& metric_names = at_or_null(overall, "metrics");
    md << "### Overall\n\n";
    if (overall.is_object() && !at_or_null(overall, "entries").empty()) {
      std::string shared;  // other methods that share overall rank 1
      for (const json& e : at_or_null(overall, "entries"))
        if (at_or_null(e, "rank") == 1 && e.value("method", "") != overall.value("top", ""))
          shared += (shared.empty() ? "" : ", ") + cell(e.value("method", ""));
      md << "Mean rank across " << metric_names.size()
         << " metric(s) (average ranks within each metric, among the methods scored in every "
            "metric). Top: **"
         << cell(overall.value("top", "")) << "**"
         << (shared.empty() ? "" : " (rank 1 shared with " + shared + ")") << ", keeps rank 1 in "
         << fmt_fraction(at_or_null(overall, "rank_stability"))
         << " of the bootstrap replicates (rank stability).";
      const json& conc = at_or_null(overall, "concordance");
      if (conc.is_object())
        md << " Kendall τ_b between the full-data and replicate rankings: mean "
           << fmt_fraction(at_or_null(conc, "kendall_tau_b_mean")) << ", "
           << format("%g", 100.0 * (1.0 - confidence) / 2.0) << "% quantile "
           << fmt_fraction(at_or_null(conc, "kendall_tau_b_low")) << ".";
      md << "\n\n| rank | method | mean rank | rank " << pct << " interval | P(rank 1)";
      for (const json& m : metric_names) md << " | " << cell(m.get<std::string>());
      md << " |\n|---:|---|---:|---:|---:";
      for (std::size_t k = 0; k < metric_names.size(); ++k) md << "|---:";
      md << "|\n";
      for (const json& e : at_or_null(overall, "entries")) {
        md << "| " << fmt_rank(at_or_null(e, "rank")) << " | " << cell(e.value("method", ""))
           << " | " << format("%.3g", get_num(e, "mean_rank")) << " | ["
           << fmt_rank(at_or_null(e, "rank_ci_low")) << ", "
           << fmt_rank(at_or_null(e, "rank_ci_high")) << "] | "
           << fmt_fraction(at_or_null(e, "p_rank1"));
        for (const json& m : metric_names)
          md << " | "
             << fmt_rank(at_or_null(at_or_null(e, "metric_ranks"), m.get<std::string>().c_str()));
        md << " |\n";
      }
      md << "\n";
    } else {
      md << "No method has a defined score in every metric.\n\n";
    }
    for (const json& e : at_or_null(overall, "not_ranked"))
      md << "- not ranked: `" << one_line(e.value("method", ""))
         << "`: " << one_line(e.value("reason", "")) << "\n";
    if (!at_or_null(overall, "not_ranked").empty()) md << "\n";

    // Per metric.
    std::vector<std::pair<std::string, json>> legend;
    std::set<std::string> in_legend;
    for (const json& metric : at_or_null(board, "metrics")) {
      const int direction = metric.value("direction", 1);
      md << "### " << cell(metric.value("metric", "")) << " "
         << (direction < 0 ? "(↓ lower is better)" : "(↑ higher is better)") << "\n\n";
      const std::string choices = one_line(compact(at_or_null(metric, "metric_info")));
      md << "Choices: " << (choices.empty() ? "—" : choices) << "\n";
      if (metric.value("metric_info_differs", false))
        md << "(the methods' rows record different metric choices; see results.json)\n";
      const bool f1_of_means = at_or_null(metric, "aggregation") == "f1_of_means";
      if (f1_of_means)
        md << "Aggregation: F1 of the mean precision and the mean recall over examples (ERASER "
              "macro); the CI and Δ bootstrap that aggregate; p is from the per-example F1.\n";
      md << "\n| rank | method | " << (f1_of_means ? "F1 of means" : "mean") << " | " << pct
         << " CI | Δ vs best [" << pct << " CI] | ≈ | p | P(rank 1) | n |\n";
      md << "|---:|---|---:|---|---|:-:|---:|---:|---:|\n";
      std::vector<const json*> errors;
      for (const json& e : at_or_null(metric, "entries")) {
        const std::string method = e.value("method", "");
        if (!in_legend.count(method)) {
          in_legend.insert(method);
          legend.emplace_back(method, at_or_null(e, "method_info"));
        }
        if (e.contains("error") && e["error"].is_string()) {
          errors.push_back(&e);
          continue;
        }
        const json& diff = at_or_null(e, "diff_to_best");
        std::string delta = "—";
        if (e.value("best", false))
          delta = "best";
        else if (diff.is_object())
          delta = fmt_signed(at_or_null(diff, "mean")) + " [" +
                  fmt_signed(at_or_null(diff, "ci_low")) + ", " +
                  fmt_signed(at_or_null(diff, "ci_high")) + "]";
        const json& tied = at_or_null(e, "tied_with_best");
        std::string n = std::to_string(e.value("n", 0));
        if (e.value("n_undefined", 0) > 0)
          n += " (" + std::to_string(e.value("n_undefined", 0)) + " NaN)";
        md << "| " << fmt_rank(at_or_null(e, "rank")) << " | " << cell(method) << " | "
           << fmt_value(at_or_null(e, "mean")) << " | [" << fmt_value(at_or_null(e, "ci_low"))
           << ", " << fmt_value(at_or_null(e, "ci_high")) << "] | " << delta << " | "
           << (tied.is_boolean() && tied.get<bool>() ? "≈" : "") << " | "
           << fmt_p(at_or_null(e, "wilcoxon_p_vs_best")) << " | "
           << fmt_fraction(at_or_null(e, "p_rank1")) << " | " << n << " |\n";
      }
      md << "\n";
      if (!errors.empty()) {
        md << "Errors:\n";
        for (const json* e : errors)
          md << "- `" << one_line(e->value("method", ""))
             << "`: " << one_line((*e)["error"].get<std::string>()) << "\n";
        md << "\n";
      }
    }
    if (!legend.empty()) {
      md << "#### Methods\n\n";
      for (const auto& [method, info] : legend) {
        const std::string text = one_line(compact(info));
        md << "- `" << one_line(method) << "`: " << (text.empty() ? "—" : text) << "\n";
      }
      md << "\n";
    }
  }

  // Randomisation sanity checks: one row per (method, test) on its decisive similarity.
  const json& rnd = at_or_null(doc, "randomisation");
  if (rnd.is_array() && !rnd.empty()) {
    md << "## Randomisation sanity checks\n\n"
       << "Similarity between the explanation of the trained model and of a randomised one (lower "
          "is better). Cascading: end point with every layer randomised, output layer first; "
          "random logit: explanation of another class. "
       << pct << " CI over examples.\n\n"
       << "| dataset | model | method | test | similarity | score | " << pct
       << " CI | verdict |\n|---|---|---|---|---|---:|---|---|\n";
    for (const json& e : rnd) {
      if (e.contains("error")) {
        md << "| " << cell(e.value("dataset", "")) << " | " << cell(e.value("model", "")) << " | "
           << cell(e.value("method", "")) << " | " << cell(e.value("test", ""))
           << " | | | | error: " << cell(one_line(e["error"].get<std::string>())) << " |\n";
        continue;
      }
      if (!e.contains("passes")) continue;  // the verdict rows only; details in results.json
      const json& point = e.contains("score")                              ? e["score"]
                          : (e.contains("layers") && !e["layers"].empty()) ? e["layers"].back()
                                                                           : json();
      const json& passes = e["passes"];
      md << "| " << cell(e.value("dataset", "")) << " | " << cell(e.value("model", "")) << " | "
         << cell(e.value("method", "")) << " | " << cell(e.value("test", "")) << " | "
         << cell(e.value("similarity", "")) << " | " << fmt_value(at_or_null(point, "mean"))
         << " | [" << fmt_value(at_or_null(point, "ci_low")) << ", "
         << fmt_value(at_or_null(point, "ci_high")) << "] | "
         << (passes.is_boolean() ? (passes.get<bool>() ? "pass" : "**FAIL**") : "undefined")
         << " |\n";
    }
    md << "\n";
  }

  // Agreement: one matrix per (dataset, model) for Spearman and feature agreement.
  const json& agr = at_or_null(doc, "agreement");
  if (agr.is_array() && !agr.empty()) {
    md << "## Agreement between methods\n\n";
    for (const json& a : agr) {
      const json& methods = at_or_null(a, "methods");
      const json& measures = at_or_null(a, "measures");
      if (!methods.is_array() || !measures.is_array()) continue;
      for (const json& m : measures) {
        const std::string name = m.value("measure", "");
        if (name != "spearman" && name != "feature_agreement") continue;
        md << "### " << cell(a.value("dataset", "")) << " / " << cell(a.value("model", "")) << ": "
           << name << " (mean over examples)\n\n|";
        for (const json& n : methods) md << " | " << cell(n.get<std::string>());
        md << " |\n|---";
        for (size_t i = 0; i < methods.size(); ++i) md << "|---:";
        md << "|\n";
        for (size_t i = 0; i < methods.size(); ++i) {
          md << "| " << cell(methods[i].get<std::string>());
          const json& mean = at_or_null(m, "mean");
          for (size_t j = 0; j < methods.size(); ++j) {
            const bool ok =
                mean.is_array() && i < mean.size() && mean[i].is_array() && j < mean[i].size();
            md << " | " << fmt_value(ok ? mean[i][j] : json());
          }
          md << " |\n";
        }
        md << "\n";
      }
    }
    md << "All measures with their " << pct << " CIs: `agreement` in results.json.\n\n";
  }

  // Throughput: median explanations per second over the timed repetitions.
  const json& thr = at_or_null(doc, "throughput");
  if (thr.is_array() && !thr.empty()) {
    md << "## Throughput\n\n"
       << "| dataset | model | method | device | batch | explanations/s (median) | min | max | "
          "repetitions | model rows per explanation (forward, backward) | fraction of the "
          "model's limit |\n|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const json& t : thr) {
      const json& eps = at_or_null(t, "explanations_per_second");
      md << "| " << cell(t.value("dataset", "")) << " | " << cell(t.value("model", "")) << " | "
         << cell(t.value("method", ""))
         << (t.value("kind", "") == "reference" ? " (reference)" : "") << " | "
         << cell(t.value("device", "")) << " | " << t.value("batch_size", 0) << " | ";
      if (t.contains("error")) {
        md << "error: " << cell(one_line(t["error"].get<std::string>())) << " | | | | | |\n";
        continue;
      }
      const json& rows = at_or_null(t, "rows_per_explanation");
      md << fmt_value(at_or_null(eps, "median")) << " | " << fmt_value(at_or_null(eps, "min"))
         << " | " << fmt_value(at_or_null(eps, "max")) << " | "
         << (t.contains("seconds") ? t["seconds"].size() : 0) << " | "
         << (rows.is_object() ? fmt_value(at_or_null(rows, "forward")) + ", " +
                                    fmt_value(at_or_null(rows, "backward"))
                              : std::string())
         << " | " << fmt_value(at_or_null(t, "fraction_of_limit")) << " |\n";
    }
    // The limit each fraction is taken of: the model's best rows/s on this device and threads.
    std::set<std::string> shown;  // one line per (dataset, model, device), not per batch size
    for (const json& t : thr) {
      const json& limit = at_or_null(t, "limit");
      const std::string where =
          t.value("dataset", "") + "\n" + t.value("model", "") + "\n" + t.value("device", "");
      if (!limit.is_object() || !shown.insert(where).second) continue;
      const json& f = at_or_null(limit, "forward");
      const json& fb = at_or_null(limit, "forward_backward");
      md << "\nModel limit for " << cell(t.value("dataset", "")) << " / "
         << cell(t.value("model", "")) << " on " << cell(t.value("device", "")) << ": forward "
         << fmt_value(at_or_null(f, "rows_per_second")) << " rows/s (best at "
         << fmt_value(at_or_null(f, "best_rows")) << " rows per call), forward+backward "
         << fmt_value(at_or_null(fb, "rows_per_second")) << " rows/s (best at "
         << fmt_value(at_or_null(fb, "best_rows")) << ").\n";
    }
    md << "\n";
  }

  // Scoring cost per (dataset, model, metric), summed over the methods it scored.
  const std::vector<MetricCost> costs = metric_costs(doc);
  if (!costs.empty()) {
    md << "## Scoring cost\n\n"
       << "Summed over the methods; units read from the store count the seconds they took when "
          "computed. Rows saved: model rows taken from outputs shared between metrics and "
          "methods instead of forwarded again.\n\n"
       << "| dataset | model | metric | seconds | model rows | rows saved | model rows/s | share "
          "of the time in model calls |\n|---|---|---|---:|---:|---:|---:|---:|\n";
    for (const MetricCost& c : costs) {
      md << "| " << cell(c.dataset) << " | " << cell(c.model) << " | " << cell(c.metric) << " | "
         << format("%.2f", c.seconds) << " | ";
      if (!c.rows_known) {
        md << "— | — | — | — |\n";
        continue;
      }
      md << c.forward_rows << " | " << c.saved_rows << " | "
         << (c.model_seconds > 0 ? format("%.0f", c.forward_rows / c.model_seconds) : "—") << " | "
         << (c.seconds > 0 ? format("%.2f", c.model_seconds / c.seconds) : "—") << " |\n";
    }
    md << "\n";
  }

  const json& errors = at_or_null(doc, "errors");
  if (errors.is_array() && !errors.empty()) {
    md << "## Errors\n\n";
    for (const json& e : errors) {
      const json& where = at_or_null(e, "where");
      const json& message = at_or_null(e, "message");
      md << "- " << (where.is_string() ? "`" + one_line(where.get<std::string>()) + "`: " : "")
         << one_line(message.is_string() ? message.get<std::string>() : dump(e)) << "\n";
    }
  }
  return md.str();
}

std::string leaderboard_csv(const nlohmann::json& doc) {
  std::ostringstream csv;
  csv << "dataset,model,metric,direction,method,rank,mean,median,ci_low,ci_high,n,n_undefined,"
         "diff_to_best,diff_ci_low,diff_ci_high,tied_with_best,wilcoxon_p_vs_best,p_rank1,error,"
         "method_info,metric_info\n";
  const json& boards = at_or_null(at_or_null(doc, "leaderboards"), "boards");
  for (const json& board : boards.is_array() ? boards : json::array()) {
    for (const json& metric : at_or_null(board, "metrics")) {
      for (const json& e : at_or_null(metric, "entries")) {
        const json& diff = at_or_null(e, "diff_to_best");
        const json fields[] = {at_or_null(board, "dataset"),
                               at_or_null(board, "model"),
                               at_or_null(metric, "metric"),
                               at_or_null(metric, "direction"),
                               at_or_null(e, "method"),
                               at_or_null(e, "rank"),
                               at_or_null(e, "mean"),
                               at_or_null(e, "median"),
                               at_or_null(e, "ci_low"),
                               at_or_null(e, "ci_high"),
                               at_or_null(e, "n"),
                               at_or_null(e, "n_undefined"),
                               at_or_null(diff, "mean"),
                               at_or_null(diff, "ci_low"),
                               at_or_null(diff, "ci_high"),
                               at_or_null(e, "tied_with_best"),
                               at_or_null(e, "wilcoxon_p_vs_best"),
                               at_or_null(e, "p_rank1"),
                               at_or_null(e, "error")};
        for (const json& f : fields) csv << csv_value(f) << ",";
        csv << csv_field(dump(at_or_null(e, "method_info"))) << ","
            << csv_field(dump(at_or_null(e, "metric_info"))) << "\n";
      }
    }
  }
  return csv.str();
}

}  // namespace attrib
