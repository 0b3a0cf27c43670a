// The run header and the leaderboards of the report.
#include "report/sections.h"

#include <cmath>

#include "json_values.h"
#include "report/html.h"
#include "report/svg.h"

namespace attrib::report {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* key, const std::string& fallback = "—") {
  const json& v = at_or_null(j, key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return fallback;
  return v.dump();
}

/// A numeric table cell: the shown text, with the value in data-v for the sorting script.
std::string num_cell(double v, const std::string& shown) {
  return "<td class=\"n\" data-v=\"" + (std::isfinite(v) ? fmt(v, 10) : std::string("")) + "\">" +
         escape(shown) + "</td>";
}

std::string num_cell(double v) { return num_cell(v, fmt(v)); }

std::string interval(double low, double high) {
  return std::isfinite(low) && std::isfinite(high) ? "[" + fmt(low) + ", " + fmt(high) + "]" : "—";
}

std::string rank_interval(const json& e) {
  const double lo = get_num(e, "rank_ci_low"), hi = get_num(e, "rank_ci_high");
  if (!std::isfinite(lo)) return "—";
  return lo == hi ? fmt(lo) : fmt(lo) + "–" + fmt(hi);
}

std::string board_anchor(const json& board) {
  return anchor({"lb", str(board, "dataset"), str(board, "model")});
}

std::string overall_table(const json& overall) {
  const json& metrics = at_or_null(overall, "metrics");
  std::string out =
      "<table class=\"sort\"><thead><tr><th>rank</th><th>method</th><th>mean rank</th>"
      "<th title=\"95 % bootstrap interval of the overall rank\">rank interval</th>"
      "<th title=\"share of bootstrap replicates where the method ranks first\">P(rank 1)</th>";
  if (metrics.is_array())
    for (const json& m : metrics) out += "<th>" + escape(m.get<std::string>()) + "</th>";
  out += "</tr></thead><tbody>";
  for (const json& e : at_or_null(overall, "entries")) {
    const double rank = get_num(e, "rank");
    out += std::string("<tr") + (rank == 1 ? " class=\"top\"" : "") + ">" + num_cell(rank) +
           "<td>" + escape(str(e, "method")) + "</td>" + num_cell(get_num(e, "mean_rank")) +
           num_cell(get_num(e, "rank_ci_low"), rank_interval(e)) + num_cell(get_num(e, "p_rank1"));
    if (metrics.is_array())
      for (const json& m : metrics)
        out += num_cell(get_num(at_or_null(e, "metric_ranks"), m.get<std::string>().c_str()));
    out += "</tr>";
  }
  out += "</tbody></table>";
  for (const json& n : at_or_null(overall, "not_ranked"))
    out += "<p class=\"note\">Not ranked: " + escape(str(n, "method")) + " (" +
           escape(str(n, "reason")) + ")</p>";
  const json& conc = at_or_null(overall, "concordance");
  if (conc.is_object())
    out += "<p class=\"note\">Rank concordance over bootstrap replicates: mean Kendall τ-b " +
           fmt(get_num(conc, "kendall_tau_b_mean")) + ", lower bound " +
           fmt(get_num(conc, "kendall_tau_b_low")) + ".</p>";
  return out;
}

std::string metric_block(const json& board, const json& mb) {
  const std::string dataset = str(board, "dataset"), model = str(board, "model");
  const std::string metric = str(mb, "metric");
  const int direction = get_num(mb, "direction") < 0 ? -1 : +1;
  std::string table =
      "<table class=\"sort\"><thead><tr><th>rank</th><th>method</th><th>mean</th>"
      "<th>95 % CI</th><th title=\"paired bootstrap CI of the difference to the best; = marks a "
      "tie (the CI contains 0)\">Δ to best</th><th title=\"Wilcoxon signed-rank p against the "
      "best\">p</th><th>P(rank 1)</th><th>rank interval</th><th>n</th></tr></thead><tbody>";
  std::vector<ForestRow> rows;
  for (const json& e : at_or_null(mb, "entries")) {
    const std::string method = str(e, "method");
    const std::string id = row_anchor(dataset, model, metric, method);
    const bool best = at_or_null(e, "best").is_boolean() && e["best"].get<bool>();
    const bool tied =
        at_or_null(e, "tied_with_best").is_boolean() && e["tied_with_best"].get<bool>();
    const json& error = at_or_null(e, "error");
    ForestRow fr{
        method, get_num(e, "mean"), get_num(e, "ci_low"), get_num(e, "ci_high"), best, tied, ""};
    if (error.is_string()) {
      fr.note = "error: " + error.get<std::string>();
      table += "<tr id=\"" + id + "\" class=\"error\"><td class=\"n\" data-v=\"\">—</td><td>" +
               escape(method) + "</td><td colspan=\"7\" class=\"err\"><div class=\"msg\">error: " +
               escape(error.get<std::string>()) + "</div></td></tr>";
      rows.push_back(fr);
      continue;
    }
    if (!std::isfinite(fr.mean)) fr.note = str(e, "note", "no defined score");
    const json& diff = at_or_null(e, "diff_to_best");
    table +=
        "<tr id=\"" + id + "\"" + (best ? " class=\"top\"" : "") + ">" +
        num_cell(get_num(e, "rank")) + "<td>" + escape(method) + (best ? " ★" : "") + "</td>" +
        num_cell(fr.mean) + num_cell(fr.low, interval(fr.low, fr.high)) +
        num_cell(get_num(diff, "mean"),
                 diff.is_object() ? (tied ? "= " : "") +
                                        interval(get_num(diff, "ci_low"), get_num(diff, "ci_high"))
                                  : (best ? "best" : "—")) +
        num_cell(get_num(e, "wilcoxon_p_vs_best")) + num_cell(get_num(e, "p_rank1")) +
        num_cell(get_num(e, "rank_ci_low"), rank_interval(e)) + num_cell(get_num(e, "n")) + "</tr>";
    rows.push_back(fr);
  }
  table += "</tbody></table>";
  const std::string title =
      metric + " (" + (direction < 0 ? "lower" : "higher") + " is better; mean and 95 % CI)";
  return "<div class=\"metric\" id=\"" + anchor({"lb", dataset, model, metric}) + "\"><h4>" +
         escape(metric) + " <small>" + (direction < 0 ? "lower" : "higher") + " is better · " +
         escape(str(mb, "aggregation")) + " over " + fmt(get_num(mb, "n_examples")) +
         " examples</small></h4><div class=\"pair\"><div>" + table + "</div><div>" +
         forest_plot(rows, direction, title) + "</div></div></div>";
}

}  // namespace

std::string row_anchor(const std::string& dataset, const std::string& model,
                       const std::string& metric, const std::string& method) {
  return anchor({"row", dataset, model, metric, method});
}

std::string run_section(const json& doc) {
  const json& ctx = at_or_null(doc, "context");
  std::string out = "<section id=\"run\"><h2>Run</h2><dl class=\"facts\">";
  auto fact = [&](const std::string& k, const std::string& v) {
    out += "<dt>" + escape(k) + "</dt><dd>" + escape(v) + "</dd>";
  };
  fact("suite", str(ctx, "suite"));
  fact("seed", str(ctx, "seed"));
  const json& dirty = at_or_null(ctx, "git_dirty");
  fact("commit", str(ctx, "git_commit") +
                     (dirty.is_boolean() && dirty.get<bool>() ? " (uncommitted changes)" : ""));
  fact("device", str(ctx, "device") +
                     (at_or_null(ctx, "cuda_available").is_boolean()
                          ? (ctx["cuda_available"].get<bool>() ? " (CUDA available)" : " (no CUDA)")
                          : ""));
  fact("attrib", str(ctx, "attrib_version") + " (build " + str(ctx, "build_fingerprint") + ")");
  fact("LibTorch", str(ctx, "libtorch_version"));
  fact("date (UTC)", str(ctx, "date_utc"));
  fact("host", str(ctx, "host"));
  const json& threads = at_or_null(ctx, "threads");
  if (threads.is_object())
    fact("threads",
         str(threads, "intra_op") + " intra-op, " + str(threads, "inter_op") + " inter-op");
  if (at_or_null(ctx, "incomplete").is_boolean() && ctx["incomplete"].get<bool>())
    fact("status", "incomplete (interrupted): the numbers cover what finished");
  out += "</dl>";
  const json& desc = at_or_null(at_or_null(doc, "suite"), "description");
  if (desc.is_string()) out += "<p>" + escape(desc.get<std::string>()) + "</p>";

  // Errors: each linked to the first leaderboard row whose error carries its message (a failed
  // explanation's rows say "explanation failed: MESSAGE").
  const json& errors = at_or_null(doc, "errors");
  const json& rows = at_or_null(doc, "rows");
  out += "<div id=\"errors\"><h3>Errors (" + std::to_string(errors.is_array() ? errors.size() : 0) +
         ")</h3>";
  if (!errors.is_array() || errors.empty()) {
    out += "<p>None: every row of the run has scores.</p>";
  } else {
    out += "<ul class=\"errors\">";
    for (const json& e : errors) {
      const std::string message = str(e, "message", ""), where = str(e, "where", "");
      std::string link;
      if (rows.is_array())
        for (const json& r : rows)
          if (!message.empty() && at_or_null(r, "error").is_string() &&
              r["error"].get<std::string>().find(message) != std::string::npos) {
            link =
                row_anchor(str(r, "dataset"), str(r, "model"), str(r, "metric"), str(r, "method"));
            break;
          }
      out += "<li><b>" + escape(where) + "</b>: <span class=\"err\">" + escape(message) +
             "</span>" + (link.empty() ? "" : " <a href=\"#" + link + "\">(row)</a>") + "</li>";
    }
    out += "</ul>";
  }
  const json& load_errors = at_or_null(ctx, "plugin_load_errors");
  if (load_errors.is_array() && !load_errors.empty()) {
    out += "<p>Plugin load errors:</p><ul class=\"errors\">";
    for (const json& e : load_errors)
      out += "<li><b>" + escape(str(e, "path")) + "</b>: <span class=\"err\">" +
             escape(str(e, "message")) + "</span></li>";
    out += "</ul>";
  }
  return out + "</div></section>";
}

std::string leaderboards_section(const json& doc) {
  std::string out =
      "<section id=\"leaderboards\"><h2>Leaderboards</h2><p>Per dataset and model: the overall "
      "ranking by mean rank across metrics (with the 95 % bootstrap interval of each rank), then "
      "per metric every method's mean with its paired percentile-bootstrap 95 % CI. ★ and the "
      "filled dot mark the best method; = and a hollow dot mark methods tied with it (the CI of "
      "the difference contains 0). Click a column header to sort.</p>";
  const json& boards = at_or_null(at_or_null(doc, "leaderboards"), "boards");
  if (!boards.is_array() || boards.empty()) out += "<p>No leaderboard: no row has scores.</p>";
  for (const json& board : boards) {
    out += "<div class=\"board\" id=\"" + board_anchor(board) + "\"><h3>" +
           escape(str(board, "dataset")) + " / " + escape(str(board, "model")) + " <small>" +
           fmt(get_num(board, "n_examples")) + " examples</small></h3><h4>Overall ranking</h4>" +
           overall_table(at_or_null(board, "overall"));
    for (const json& mb : at_or_null(board, "metrics")) out += metric_block(board, mb);
    out += "</div>";
  }
  return out + "</section>";
}

}  // namespace attrib::report
