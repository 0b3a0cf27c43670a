// `attrib compare` as Markdown: the summary, then every regression and change (compare.h).
#include <cstdio>
#include <sstream>
#include <string>

#include "compare.h"

namespace attrib {

namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Markdown helpers

std::string fmt(const json& v, const char* f = "%.4g") {
  if (!v.is_number()) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v.get<double>());
  return buf;
}

std::string fmt_p(const json& v) {
  if (!v.is_number()) return "—";
  const double p = v.get<double>();
  char buf[32];
  std::snprintf(buf, sizeof buf, p < 1e-4 ? "%.1e" : "%.4f", p);
  return buf;
}

std::string cell(std::string s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|')
      out += "\\|";
    else if (ch == '\n' || ch == '\r')
      out += ' ';
    else
      out += ch;
  }
  return out;
}

std::string text(const json& v) {
  if (v.is_null()) return "—";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string status_label(const std::string& s) {
  if (is_regression(s)) return "**" + (s == "regression" ? std::string("REGRESSION") : s) + "**";
  if (s == "not_comparable") return "not comparable";
  if (s == "still_failing") return "still failing";
  return s;
}

std::string note_of(const json& e) {
  std::string note;
  auto add = [&](const std::string& s) { note += (note.empty() ? "" : "; ") + s; };
  if (e.contains("reason")) add(e["reason"].get<std::string>());
  if (e.contains("differing_keys"))
    for (const json& d : e["differing_keys"])
      add(d["key"].get<std::string>() + ": " + d["baseline"].dump() + " → " + d["current"].dump());
  if (e.contains("notes"))
    for (const json& n : e["notes"]) add(n.get<std::string>());
  return cell(note);
}

}  // namespace

std::string compare_markdown(const nlohmann::json& report) {
  std::ostringstream md;
  const json& b = report["baseline"];
  const json& c = report["current"];
  const json& s = report["settings"];
  md << "# attrib compare\n\n";
  md << "| | baseline | current |\n|---|---|---|\n";
  auto commit = [](const json& side) {
    std::string t = text(side["git_commit"]);
    if (side["git_dirty"].is_boolean() && side["git_dirty"].get<bool>()) t += " (dirty)";
    return t;
  };
  md << "| file | " << cell(text(b["source"])) << " | " << cell(text(c["source"])) << " |\n";
  md << "| git commit | " << cell(commit(b)) << " | " << cell(commit(c)) << " |\n";
  for (const auto& [label, key] :
       std::vector<std::pair<const char*, const char*>>{{"date (UTC)", "date_utc"},
                                                        {"attrib version", "attrib_version"},
                                                        {"suite", "suite"},
                                                        {"seed", "seed"},
                                                        {"device", "device"},
                                                        {"host", "host"}})
    md << "| " << label << " | " << cell(text(b[key])) << " | " << cell(text(c[key])) << " |\n";
  const double alpha = s["alpha"].get<double>();
  char pct[16];
  std::snprintf(pct, sizeof pct, "%g %%", 100.0 * (1.0 - alpha));
  md << "\nMetric rows are matched by (dataset, model, method, metric). Regression: worse in the "
        "metric's direction by more than "
     << fmt(s["tolerance"])
     << (s["tolerance_mode"].get<std::string>().rfind("relative", 0) == 0 ? " × |baseline mean|"
                                                                          : " (absolute)")
     << " and p < " << fmt(s["alpha"])
     << " (examples paired by id: Wilcoxon signed-rank; otherwise Mann–Whitney U). Δ = current − "
        "baseline with its "
     << pct
     << " bootstrap interval. Throughput is matched by (dataset, model, method, device, "
        "batch size). Regression: median seconds per repetition more than "
     << fmt(json(100.0 * s["speed_tolerance"].get<double>())) << " % slower and Mann–Whitney p < "
     << fmt(s["alpha"]) << ". Missing or failed in the current run counts as a regression.\n\n";

  const json& sum = report["summary"];
  const std::size_t n_reg = sum["regressions"].get<std::size_t>();
  md << "**" << (n_reg == 0 ? "No regression" : std::to_string(n_reg) + " regression(s)") << "**";
  if (n_reg > 0)
    md << " (" << sum["metric_regressions"].get<std::size_t>() << " metric, "
       << sum["throughput_regressions"].get<std::size_t>() << " throughput, "
       << sum.value("work_regressions", std::size_t{0}) << " model rows)";
  auto counts_text = [](const json& counts) {
    std::string t;
    for (auto it = counts.begin(); it != counts.end(); ++it)
      t += (t.empty() ? "" : ", ") + std::to_string(it.value().get<int>()) + " " + it.key();
    return t.empty() ? std::string("none") : t;
  };
  md << ". Metrics: " << counts_text(sum["metrics"])
     << ". Throughput: " << counts_text(sum["throughput"])
     << ". Model rows: " << counts_text(sum.value("work", json::object())) << ".\n\n";

  md << "## Metrics\n\n";
  if (report["metrics"].empty()) {
    md << "No metric rows.\n\n";
  } else {
    md << "| status | dataset | model | method | metric | baseline | current | Δ [" << pct
       << " CI] | p | n | note |\n";
    md << "|---|---|---|---|---|---:|---:|---|---:|---:|---|\n";
    for (const json& e : report["metrics"]) {
      const json base = e.value("baseline", json()), cur = e.value("current", json());
      const std::string arrow = e["direction"].get<int>() < 0 ? " ↓" : " ↑";
      std::string delta = "—";
      if (e.contains("difference") && e["difference"].is_number())
        delta = fmt(e["difference"], "%+.4g") + " [" + fmt(e["ci_low"], "%+.4g") + ", " +
                fmt(e["ci_high"], "%+.4g") + "]";
      std::string n = "—";
      if (e.contains("n_pairs"))
        n = std::to_string(e["n_pairs"].get<std::size_t>()) + " pairs";
      else if (base.is_object() && cur.is_object() && e.contains("difference"))
        n = std::to_string(base["n"].get<std::size_t>()) + " / " +
            std::to_string(cur["n"].get<std::size_t>());
      md << "| " << status_label(e["status"].get<std::string>()) << " | "
         << cell(e["dataset"].get<std::string>()) << " | " << cell(e["model"].get<std::string>())
         << " | " << cell(e["method"].get<std::string>()) << " | "
         << cell(e["metric"].get<std::string>()) << arrow << " | "
         << (base.is_object() ? fmt(base["mean"]) : "—") << " | "
         << (cur.is_object() ? fmt(cur["mean"]) : "—") << " | " << delta << " | "
         << fmt_p(e.value("p_value", json())) << " | " << n << " | " << note_of(e) << " |\n";
    }
    md << "\n";
  }

  md << "## Throughput\n\n";
  if (report["throughput"].empty()) {
    md << "No throughput entries.\n";
  } else {
    md << "| status | dataset | model | method | device | batch | baseline median s | current "
          "median s | ratio | p | reps | fraction of limit (baseline → current) | note |\n";
    md << "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (const json& e : report["throughput"]) {
      const json base = e.value("baseline", json()), cur = e.value("current", json());
      std::string reps = (base.is_object() ? std::to_string(base["repetitions"].get<std::size_t>())
                                           : std::string("—")) +
                         " / " +
                         (cur.is_object() ? std::to_string(cur["repetitions"].get<std::size_t>())
                                          : std::string("—"));
      md << "| " << status_label(e["status"].get<std::string>()) << " | "
         << cell(e["dataset"].get<std::string>()) << " | " << cell(e["model"].get<std::string>())
         << " | " << cell(e["method"].get<std::string>()) << " | "
         << cell(e["device"].get<std::string>()) << " | " << e["batch_size"].dump() << " | "
         << (base.is_object() ? fmt(base["median_seconds"]) : "—") << " | "
         << (cur.is_object() ? fmt(cur["median_seconds"]) : "—") << " | "
         << fmt(e.value("ratio", json()), "%.3f") << " | " << fmt_p(e.value("p_value", json()))
         << " | " << reps << " | "
         << (base.is_object() ? fmt(base.value("fraction_of_limit", json()), "%.2f") : "—") << " → "
         << (cur.is_object() ? fmt(cur.value("fraction_of_limit", json()), "%.2f") : "—") << " | "
         << note_of(e) << " |\n";
    }
  }

  // Model rows: only what changed or could not be compared (unchanged entries are counted above).
  md << "\n## Model rows\n\nRows each method's explanations (forward + backward) and each "
        "metric's scoring (forwarded) needed; row counts do not depend on the machine, so any "
        "increase with the same choices is a regression.\n\n";
  bool any = false;
  for (const json& e : report.value("work", json::array())) {
    if (e["status"] == "unchanged") continue;
    if (!any)
      md << "| status | dataset | model | method | stage | baseline rows | current rows | ratio "
            "| note |\n|---|---|---|---|---|---:|---:|---:|---|\n";
    any = true;
    const json base = e.value("baseline", json()), cur = e.value("current", json());
    // Here only "regression" counts against the run ("missing" is the metric table's to judge).
    const std::string status = e["status"].get<std::string>();
    md << "| "
       << (e["regression"].get<bool>() ? std::string("**REGRESSION**")
           : status == "missing"       ? status
                                       : status_label(status))
       << " | " << cell(e["dataset"].get<std::string>()) << " | "
       << cell(e["model"].get<std::string>()) << " | " << cell(e["method"].get<std::string>())
       << " | " << cell(e["stage"].get<std::string>()) << " | "
       << (base.is_object() ? fmt(base.value("rows", json()), "%.0f") : "—") << " | "
       << (cur.is_object() ? fmt(cur.value("rows", json()), "%.0f") : "—") << " | "
       << fmt(e.value("ratio", json()), "%.3f") << " | " << note_of(e) << " |\n";
  }
  if (!any) md << "Every compared entry needed the same rows.\n";
  return md.str();
}

}  // namespace attrib
