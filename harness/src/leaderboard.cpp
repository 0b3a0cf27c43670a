// Leaderboards (results.h): per (dataset, model, metric) every method's aggregate with bootstrap
// CIs, the paired difference to the best and its test; the overall ranking with rank stability.
#include "leaderboard.h"

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

namespace attrib {

namespace {

using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Rank key of an undefined replicate statistic: worse than any defined one.
constexpr double kWorstKey = std::numeric_limits<double>::max();

const char* const kCiMethod = "percentile";
const char* const kTest =
    "wilcoxon signed-rank, zeros discarded, normal approx. with tie and continuity correction "
    "(exact conditional distribution for n <= 25), two-sided, vs the best method";

// ---------------------------------------------------------------------------------------------
// Grouping

struct Group {
  std::string metric;
  int direction = 0;                          // of the first valid row
  std::string aggregation;                    // of the first valid row
  std::vector<std::size_t> rows;              // every row of the group, in input order
  std::map<std::size_t, std::string> errors;  // row -> why it is excluded
};

struct Board {
  std::string dataset, model;
  std::vector<Group> groups;  // first-seen metric order
  std::vector<std::string> keys;
  std::map<std::string, std::size_t> key_index;
};

// Example keys of a row: its example ids (a repeated id gets its occurrence number), or positions
// when the row has no ids.
std::vector<std::string> row_keys(const ScoreRow& row) {
  std::vector<std::string> keys(row.scores.size());
  std::map<std::string, int> seen;
  for (std::size_t i = 0; i < row.scores.size(); ++i) {
    std::string base = row.example_ids.empty() ? "\x1f#" + std::to_string(i) : row.example_ids[i];
    const int k = seen[base]++;
    keys[i] = k == 0 ? base : base + "\x1f" + std::to_string(k);
  }
  return keys;
}

std::vector<Board> group_rows(const std::vector<ScoreRow>& rows) {
  std::vector<Board> boards;
  std::map<std::pair<std::string, std::string>, std::size_t> board_index;
  std::vector<std::map<std::string, std::size_t>> group_index;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const ScoreRow& row = rows[r];
    const auto bkey = std::make_pair(row.dataset, row.model);
    auto bit = board_index.find(bkey);
    if (bit == board_index.end()) {
      bit = board_index.emplace(bkey, boards.size()).first;
      boards.push_back(Board{row.dataset, row.model, {}, {}, {}});
      group_index.emplace_back();
    }
    Board& board = boards[bit->second];
    auto& gindex = group_index[bit->second];
    auto git = gindex.find(row.metric);
    if (git == gindex.end()) {
      git = gindex.emplace(row.metric, board.groups.size()).first;
      board.groups.push_back(Group{row.metric, 0, {}, {}, {}});
    }
    Group& group = board.groups[git->second];
    group.rows.push_back(r);

    std::string error = row.error;
    if (error.empty() && !row.example_ids.empty() && row.example_ids.size() != row.scores.size())
      error = detail::cat("example_ids has ", row.example_ids.size(), " entries but scores has ",
                          row.scores.size());
    if (error.empty() && row.direction != 1 && row.direction != -1)
      error = detail::cat("direction must be +1 or -1, got ", row.direction);
    if (error.empty() && group.direction != 0 && row.direction != group.direction)
      error = detail::cat("direction ", row.direction, " disagrees with the metric's direction ",
                          group.direction, " in the other rows");
    if (error.empty() && row.aggregation != "mean" && row.aggregation != "f1_of_means")
      error = "aggregation must be \"mean\" or \"f1_of_means\", got \"" + row.aggregation + "\"";
    if (error.empty() && !group.aggregation.empty() && row.aggregation != group.aggregation)
      error = "aggregation \"" + row.aggregation + "\" disagrees with the metric's \"" +
              group.aggregation + "\" in the other rows";
    if (error.empty() && row.aggregation == "f1_of_means") {
      for (const char* part : {"precision", "recall"}) {
        const auto it = row.components.find(part);
        if (it == row.components.end() || it->second.size() != row.scores.size())
          error = detail::cat("aggregation f1_of_means needs one '", part, "' per score");
      }
    }
    if (error.empty()) {
      for (std::size_t other : group.rows)
        if (other != r && !group.errors.count(other) && rows[other].method == row.method)
          error = "duplicate row for method '" + row.method + "' (the first one is used)";
    }
    if (!error.empty()) {
      group.errors[r] = error;
      continue;
    }
    if (group.direction == 0) group.direction = row.direction;
    if (group.aggregation.empty()) group.aggregation = row.aggregation;
    for (const std::string& key : row_keys(row)) {
      if (board.key_index.emplace(key, board.keys.size()).second) board.keys.push_back(key);
    }
  }
  return boards;
}

// ---------------------------------------------------------------------------------------------
// Per-metric statistics

struct Entry {
  std::size_t row = 0;
  std::vector<double> scores;  // aligned to the board's example keys, NaN where missing
  // f1_of_means: the per-example precision and recall, aligned like scores.
  std::vector<double> precision, recall;
  stats::MeanCI ci;
  double median = kNaN;
  std::size_t n_undefined = 0;  // undefined values in the row itself
  std::vector<double> reps;     // bootstrap replicate means
  double rank = kNaN;           // competition rank by mean; NaN: not ranked
  std::vector<double> rep_ranks;
};

// Rank keys (ascending = better) of `values` in direction `direction`; undefined -> worst.
std::vector<double> rank_keys(const std::vector<double>& values, int direction) {
  std::vector<double> keys(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    keys[i] = stats::is_defined(values[i]) ? -direction * values[i] : kWorstKey;
  return keys;
}

double f1_of(double p, double r) {
  if (!stats::is_defined(p) || !stats::is_defined(r)) return kNaN;
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

// The row's aggregate over the full data and over every bootstrap replicate (metric.h): the mean
// of the scores, or ERASER's F1 of the mean precision and the mean recall.
void aggregate(Entry& e, const std::string& aggregation, const stats::BootstrapIndices& indices) {
  if (aggregation != "f1_of_means") {
    e.reps = stats::bootstrap_means(e.scores, indices);
    e.ci.mean = stats::mean(e.scores);
    return;
  }
  e.ci.mean = f1_of(stats::mean(e.precision), stats::mean(e.recall));
  e.reps.resize(indices.resamples());
  for (std::size_t b = 0; b < indices.resamples(); ++b)
    e.reps[b] = f1_of(stats::replicate_mean(e.precision, indices, b),
                      stats::replicate_mean(e.recall, indices, b));
}

// Difference of two entries' aggregates with the percentile interval of the replicate
// differences (the same resampled examples for both: paired).
stats::MeanCI aggregate_difference(const Entry& e, const Entry& best, double confidence) {
  stats::MeanCI d;
  d.mean = e.ci.mean - best.ci.mean;
  std::vector<double> diffs(e.reps.size());
  for (std::size_t b = 0; b < diffs.size(); ++b) diffs[b] = e.reps[b] - best.reps[b];
  d.ci = stats::percentile_interval(diffs, confidence);
  for (std::size_t i = 0; i < e.scores.size(); ++i)
    d.n += stats::is_defined(e.scores[i]) && stats::is_defined(best.scores[i]);
  d.undefined_replicates = stats::count_undefined(diffs);
  return d;
}

struct MetricStats {
  const Group* group = nullptr;
  std::vector<Entry> entries;       // valid rows, input order
  std::vector<std::size_t> ranked;  // indices into entries with a defined mean, input order
};

json metric_board(const RunResults& results, const Board& board, const Group& group,
                  const stats::BootstrapIndices& indices, const StatsOptions& options,
                  MetricStats& ms) {
  const auto& rows = results.rows;
  const std::size_t n = board.keys.size();
  const std::size_t B = indices.resamples();
  ms.group = &group;

  std::set<std::size_t> covered;  // keys scored by some valid row of this metric
  for (std::size_t r : group.rows) {
    if (group.errors.count(r)) continue;
    Entry e;
    e.row = r;
    e.scores.assign(n, kNaN);
    const bool f1 = group.aggregation == "f1_of_means";
    if (f1) {
      e.precision.assign(n, kNaN);
      e.recall.assign(n, kNaN);
    }
    const std::vector<std::string> keys = row_keys(rows[r]);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::size_t k = board.key_index.at(keys[i]);
      covered.insert(k);
      const double v = rows[r].scores[i];
      if (stats::is_defined(v)) e.scores[k] = v;
      if (f1) {
        e.precision[k] = rows[r].components.at("precision")[i];
        e.recall[k] = rows[r].components.at("recall")[i];
      }
    }
    e.n_undefined = stats::count_undefined(rows[r].scores);
    aggregate(e, group.aggregation, indices);
    e.ci.ci = stats::percentile_interval(e.reps, options.confidence);
    e.ci.n = e.scores.size() - stats::count_undefined(e.scores);
    e.ci.n_undefined = e.n_undefined;
    e.ci.undefined_replicates = stats::count_undefined(e.reps);
    e.median = stats::median(e.scores);
    ms.entries.push_back(std::move(e));
  }

  // Full-data ranks among the rows with a defined mean.
  std::vector<double> means;
  for (std::size_t i = 0; i < ms.entries.size(); ++i) {
    if (!stats::is_defined(ms.entries[i].ci.mean)) continue;
    ms.ranked.push_back(i);
    means.push_back(ms.entries[i].ci.mean);
  }
  const std::vector<double> ranks = stats::min_ranks(rank_keys(means, group.direction));
  for (std::size_t j = 0; j < ms.ranked.size(); ++j) ms.entries[ms.ranked[j]].rank = ranks[j];

  // Replicate ranks.
  for (std::size_t i : ms.ranked) ms.entries[i].rep_ranks.resize(B);
  std::vector<double> rep_values(ms.ranked.size());
  for (std::size_t b = 0; b < B; ++b) {
    for (std::size_t j = 0; j < ms.ranked.size(); ++j)
      rep_values[j] = ms.entries[ms.ranked[j]].reps[b];
    const std::vector<double> rr = stats::min_ranks(rank_keys(rep_values, group.direction));
    for (std::size_t j = 0; j < ms.ranked.size(); ++j)
      ms.entries[ms.ranked[j]].rep_ranks[b] = rr[j];
  }

  // The best: rank 1, first in input order among equals.
  const Entry* best = nullptr;
  for (std::size_t i : ms.ranked)
    if (ms.entries[i].rank == 1.0) {
      best = &ms.entries[i];
      break;
    }

  const double alpha = 1.0 - options.confidence;
  json ranked_json = json::array(), unranked_json = json::array(), errors_json = json::array();
  std::vector<std::pair<double, std::size_t>> order;  // (rank, input position) for sorting
  std::vector<json> ranked_entries;
  for (const Entry& e : ms.entries) {
    const ScoreRow& row = rows[e.row];
    json j;
    j["method"] = row.method;
    const bool is_ranked = stats::is_defined(e.rank);
    j["rank"] = is_ranked ? json(static_cast<int>(e.rank)) : json(nullptr);
    j["best"] = &e == best;
    j["mean"] = num(e.ci.mean);
    j["median"] = num(e.median);
    j["ci_low"] = num(e.ci.ci.low);
    j["ci_high"] = num(e.ci.ci.high);
    j["n"] = e.ci.n;
    j["n_undefined"] = e.n_undefined;
    j["undefined_replicates"] = e.ci.undefined_replicates;
    if (is_ranked && &e != best && best != nullptr) {
      const stats::MeanCI d =
          group.aggregation == "f1_of_means"
              ? aggregate_difference(e, *best, options.confidence)
              : stats::paired_difference_ci(e.scores, best->scores, indices, options.confidence);
      j["diff_to_best"] = {{"mean", num(d.mean)},
                           {"ci_low", num(d.ci.low)},
                           {"ci_high", num(d.ci.high)},
                           {"n", d.n}};
      j["tied_with_best"] = stats::is_defined(d.ci.low) && d.ci.contains(0.0);
      const stats::WilcoxonResult w = stats::wilcoxon_signed_rank(e.scores, best->scores);
      j["wilcoxon_p_vs_best"] = num(w.p_value);
      j["wilcoxon"] = {{"w_plus", w.w_plus},
                       {"w_minus", w.w_minus},
                       {"z", num(w.z)},
                       {"exact", w.exact},
                       {"n_used", w.n_used},
                       {"n_zero", w.n_zero},
                       {"n_undefined", w.n_undefined},
                       {"rank_biserial", num(w.rank_biserial)},
                       {"median_difference", num(w.median_difference)}};
    } else {
      j["diff_to_best"] = nullptr;
      j["tied_with_best"] = nullptr;
      j["wilcoxon_p_vs_best"] = nullptr;
      j["wilcoxon"] = nullptr;
    }
    if (is_ranked && B > 0) {
      const auto firsts = std::count(e.rep_ranks.begin(), e.rep_ranks.end(), 1.0);
      j["p_rank1"] = static_cast<double>(firsts) / static_cast<double>(B);
      j["rank_median"] = num(stats::median(e.rep_ranks));
      j["rank_ci_low"] = num(stats::percentile(e.rep_ranks, 100.0 * alpha / 2.0));
      j["rank_ci_high"] = num(stats::percentile(e.rep_ranks, 100.0 * (1.0 - alpha / 2.0)));
    } else {
      j["p_rank1"] = nullptr;
      j["rank_median"] = nullptr;
      j["rank_ci_low"] = nullptr;
      j["rank_ci_high"] = nullptr;
    }
    j["error"] = nullptr;
    if (!is_ranked) j["note"] = "no defined score";
    j["method_info"] = row.method_info;
    j["metric_info"] = row.metric_info;
    if (is_ranked) {
      order.emplace_back(e.rank, ranked_entries.size());
      ranked_entries.push_back(std::move(j));
    } else {
      unranked_json.push_back(std::move(j));
    }
  }
  std::stable_sort(order.begin(), order.end());
  for (const auto& o : order) ranked_json.push_back(std::move(ranked_entries[o.second]));

  for (std::size_t r : group.rows) {
    const auto it = group.errors.find(r);
    if (it == group.errors.end()) continue;
    errors_json.push_back({{"method", rows[r].method},
                           {"rank", nullptr},
                           {"error", it->second},
                           {"method_info", rows[r].method_info},
                           {"metric_info", rows[r].metric_info}});
  }

  json entries = json::array();
  for (auto& j : ranked_json) entries.push_back(std::move(j));
  for (auto& j : unranked_json) entries.push_back(std::move(j));
  for (auto& j : errors_json) entries.push_back(std::move(j));

  // The metric's recorded choices (of the first valid row; flagged when rows differ).
  json metric_info = nullptr;
  bool info_differs = false;
  for (const Entry& e : ms.entries) {
    if (metric_info.is_null())
      metric_info = rows[e.row].metric_info;
    else if (rows[e.row].metric_info != metric_info)
      info_differs = true;
  }
  if (metric_info.is_null() && !group.rows.empty()) metric_info = rows[group.rows[0]].metric_info;

  return {{"metric", group.metric},
          {"direction", group.direction != 0 ? group.direction : rows[group.rows[0]].direction},
          {"aggregation", group.aggregation},
          {"aggregation_definition", group.aggregation == "f1_of_means"
                                         ? "F1 of the mean per-example precision (examples with a "
                                           "prediction) and the mean per-example recall (ERASER "
                                           "macro); CIs bootstrap that aggregate; median and "
                                           "Wilcoxon use the per-example F1"
                                         : "mean of the defined per-example scores"},
          {"metric_info", metric_info},
          {"metric_info_differs", info_differs},
          {"n_examples", covered.size()},
          {"best", best != nullptr ? json(rows[best->row].method) : json(nullptr)},
          {"entries", std::move(entries)}};
}

// ---------------------------------------------------------------------------------------------
// Overall ranking per (dataset, model)

json overall_board(const RunResults& results, const std::vector<MetricStats>& metrics,
                   std::size_t B, const StatsOptions& options) {
  const auto& rows = results.rows;
  const double alpha = 1.0 - options.confidence;
  json out;
  json used = json::array(), excluded = json::array();
  std::vector<const MetricStats*> ms;
  for (const MetricStats& m : metrics) {
    if (m.ranked.empty()) {
      excluded.push_back(
          {{"metric", m.group->metric}, {"reason", "no method has a defined score"}});
      continue;
    }
    ms.push_back(&m);
    used.push_back(m.group->metric);
  }
  out["metrics"] = used;
  out["excluded_metrics"] = excluded;

  // Methods in first-seen order; the ranked ones are those with a defined mean in every metric.
  std::vector<std::string> methods;
  std::set<std::string> seen;
  for (const MetricStats* m : ms)
    for (const Entry& e : m->entries)
      if (seen.insert(rows[e.row].method).second) methods.push_back(rows[e.row].method);
  std::vector<std::string> complete;
  std::vector<std::vector<const Entry*>> cells;  // [method][metric]
  json not_ranked = json::array();
  for (const std::string& method : methods) {
    std::vector<const Entry*> row_cells;
    std::vector<std::string> missing;
    for (const MetricStats* m : ms) {
      const Entry* found = nullptr;
      for (std::size_t i : m->ranked)
        if (rows[m->entries[i].row].method == method) found = &m->entries[i];
      if (found == nullptr) missing.push_back(m->group->metric);
      row_cells.push_back(found);
    }
    if (missing.empty()) {
      complete.push_back(method);
      cells.push_back(std::move(row_cells));
    } else {
      std::string reason = "no defined score for metric(s):";
      for (const auto& s : missing) reason += " " + s;
      not_ranked.push_back({{"method", method}, {"rank", nullptr}, {"reason", reason}});
    }
  }
  for (const MetricStats& m : metrics) {  // methods that only appear as errors / undefined
    for (std::size_t r : m.group->rows) {
      const std::string& method = rows[r].method;
      if (seen.insert(method).second)
        not_ranked.push_back(
            {{"method", method}, {"rank", nullptr}, {"reason", "no defined score in any metric"}});
    }
  }

  const std::size_t C = complete.size(), K = ms.size();
  auto mean_ranks = [&](auto value_of) {
    std::vector<double> sum(C, 0.0), values(C);
    std::vector<std::vector<double>> per_metric(K);
    for (std::size_t k = 0; k < K; ++k) {
      for (std::size_t c = 0; c < C; ++c) values[c] = value_of(cells[c][k]);
      per_metric[k] = stats::average_ranks(rank_keys(values, ms[k]->group->direction));
      for (std::size_t c = 0; c < C; ++c) sum[c] += per_metric[k][c];
    }
    for (double& s : sum) s /= static_cast<double>(K);
    return std::make_pair(sum, per_metric);
  };

  const auto full = mean_ranks([](const Entry* e) { return e->ci.mean; });
  const std::vector<double> overall_rank = stats::min_ranks(full.first);

  std::vector<std::vector<double>> rep_ranks(C, std::vector<double>(B));
  std::vector<double> taus;
  for (std::size_t b = 0; b < B && C > 0; ++b) {
    const auto rep = mean_ranks([b](const Entry* e) { return e->reps[b]; });
    const std::vector<double> rr = stats::min_ranks(rep.first);
    for (std::size_t c = 0; c < C; ++c) rep_ranks[c][b] = rr[c];
    if (C >= 2) taus.push_back(stats::kendall_tau_b(full.first, rep.first).tau);
  }

  std::vector<std::size_t> order(C);
  for (std::size_t c = 0; c < C; ++c) order[c] = c;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return overall_rank[a] < overall_rank[b]; });
  json entries = json::array();
  for (std::size_t c : order) {
    json metric_ranks = json::object();
    for (std::size_t k = 0; k < K; ++k) metric_ranks[ms[k]->group->metric] = full.second[k][c];
    json j = {{"method", complete[c]},
              {"rank", static_cast<int>(overall_rank[c])},
              {"mean_rank", full.first[c]},
              {"metric_ranks", metric_ranks}};
    if (B > 0) {
      const auto firsts = std::count(rep_ranks[c].begin(), rep_ranks[c].end(), 1.0);
      j["p_rank1"] = static_cast<double>(firsts) / static_cast<double>(B);
      j["rank_median"] = num(stats::median(rep_ranks[c]));
      j["rank_ci_low"] = num(stats::percentile(rep_ranks[c], 100.0 * alpha / 2.0));
      j["rank_ci_high"] = num(stats::percentile(rep_ranks[c], 100.0 * (1.0 - alpha / 2.0)));
    } else {
      j["p_rank1"] = j["rank_median"] = j["rank_ci_low"] = j["rank_ci_high"] = nullptr;
    }
    entries.push_back(std::move(j));
  }
  out["entries"] = std::move(entries);
  out["not_ranked"] = std::move(not_ranked);
  if (C > 0) {
    const std::size_t top = order[0];
    out["top"] = complete[top];
    out["rank_stability"] = B > 0 ? out["entries"][0]["p_rank1"] : json(nullptr);
  } else {
    out["top"] = nullptr;
    out["rank_stability"] = nullptr;
  }
  if (!taus.empty()) {
    out["concordance"] = {{"kendall_tau_b_mean", num(stats::mean(taus))},
                          {"kendall_tau_b_low", num(stats::percentile(taus, 100.0 * alpha / 2.0))},
                          {"undefined_replicates", stats::count_undefined(taus)}};
  } else {
    out["concordance"] = nullptr;
  }
  return out;
}

json settings_json(const StatsOptions& options) {
  return {
      {"bootstrap_resamples", options.bootstrap_resamples},
      {"confidence", options.confidence},
      {"seed", options.seed},
      {"ci_method", kCiMethod},
      {"bootstrap",
       "paired nonparametric bootstrap over examples: one index matrix per (dataset, model) drawn "
       "by std::mt19937_64(seed), shared by every method and metric of that board"},
      {"percentile_definition",
       "linear interpolation between order statistics (Hyndman-Fan type 7, numpy 'linear')"},
      {"test", kTest},
      {"test_exact_max_n", stats::kWilcoxonExactMaxN},
      {"effect_size", "matched-pairs rank-biserial correlation (W+ - W-)/(W+ + W-)"},
      {"diff_to_best",
       "mean of per-example differences method - best over examples where both are defined, "
       "with its paired percentile bootstrap interval; tied_with_best: the interval contains 0"},
      {"undefined_scores",
       "non-finite scores are excluded (per pair for differences and tests) and counted"},
      {"rank",
       "competition rank (1 = best in the metric's direction; equal means share the lowest rank); "
       "best = the first rank-1 method in suite order"},
      {"p_rank1",
       "fraction of bootstrap replicates in which the method has rank 1 (ties count for all)"},
      {"overall_rank",
       "rank by mean over metrics of average (fractional) ranks among the methods with a defined "
       "score in every metric; rank_stability = P(the top method keeps overall rank 1) over the "
       "same replicates, every metric re-ranked on each resample"},
  };
}

}  // namespace

nlohmann::json compute_leaderboards(const RunResults& results, const StatsOptions& options) {
  ATTRIB_CHECK(options.bootstrap_resamples >= 0,
               "statistics.bootstrap_resamples: expected an integer >= 0, got ",
               options.bootstrap_resamples);
  ATTRIB_CHECK(options.confidence > 0.0 && options.confidence < 1.0,
               "statistics.confidence: expected a number in (0, 1), got ", options.confidence);
  const auto B = static_cast<std::size_t>(options.bootstrap_resamples);

  json boards = json::array();
  json problems = json::array();
  for (const Board& board : group_rows(results.rows)) {
    const stats::BootstrapIndices indices(board.keys.size(), B, options.seed);
    std::vector<MetricStats> metrics(board.groups.size());
    json metric_boards = json::array();
    for (std::size_t g = 0; g < board.groups.size(); ++g) {
      const Group& group = board.groups[g];
      metric_boards.push_back(metric_board(results, board, group, indices, options, metrics[g]));
      for (const auto& [r, message] : group.errors) {
        if (!results.rows[r].error.empty()) continue;  // reported by the runner
        problems.push_back({{"where", "leaderboard " + board.dataset + "/" + board.model + "/" +
                                          group.metric + "/" + results.rows[r].method},
                            {"message", message}});
      }
    }
    boards.push_back({{"dataset", board.dataset},
                      {"model", board.model},
                      {"n_examples", board.keys.size()},
                      {"bootstrap_seed", options.seed},
                      {"metrics", std::move(metric_boards)},
                      {"overall", overall_board(results, metrics, B, options)}});
  }
  return {{"settings", settings_json(options)}, {"boards", boards}, {"errors", problems}};
}

}  // namespace attrib
