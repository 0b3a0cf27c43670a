#include "compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "attrib/error.h"
#include "common/stats.h"
#include "compare_reader.h"
#include "compare_work.h"
#include "results.h"

namespace attrib {

namespace {

using compare_input::Doc;
using compare_input::Reader;
using compare_input::Row;
using compare_input::RowKey;
using compare_input::Speed;
using compare_input::SpeedKey;
using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

json num(double x) { return stats::is_defined(x) ? json(x) : json(nullptr); }

// ---------------------------------------------------------------------------------------------
// Helpers

// Keys (dotted paths) where two JSON values differ; objects are walked, anything else compared
// whole. Top-level keys listed in `ignore` are skipped.
void differing_keys(const json& a, const json& b, const std::string& path, json& out,
                    const std::set<std::string>& ignore = {}) {
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (auto it = a.begin(); it != a.end(); ++it) keys.insert(it.key());
    for (auto it = b.begin(); it != b.end(); ++it) keys.insert(it.key());
    for (const std::string& k : keys) {
      if (ignore.count(k)) continue;
      const auto ia = a.find(k), ib = b.find(k);
      const json va = ia == a.end() ? json() : *ia, vb = ib == b.end() ? json() : *ib;
      if (ia == a.end() || ib == b.end()) {
        out.push_back({{"key", path + "." + k}, {"baseline", va}, {"current", vb}});
        continue;
      }
      differing_keys(va, vb, path + "." + k, out);
    }
    return;
  }
  if (a != b) out.push_back({{"key", path}, {"baseline", a}, {"current", b}});
}

// Example keys (repeated ids get their occurrence number), as the leaderboards pair them.
std::vector<std::string> example_keys(const std::vector<std::string>& ids) {
  std::vector<std::string> keys(ids.size());
  std::map<std::string, int> seen;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const int k = seen[ids[i]]++;
    keys[i] = k == 0 ? ids[i] : ids[i] + "\x1f" + std::to_string(k);
  }
  return keys;
}

int priority(const std::string& status) {
  static const char* const order[] = {"regression",  "missing",        "errored",
                                      "improvement", "not_comparable", "new",
                                      "fixed",       "still_failing",  "unchanged"};
  for (int i = 0; i < 9; ++i)
    if (status == order[i]) return i;
  return 9;
}

json summary_of(const json& ctx_doc, const std::string& source) {
  const json& context =
      ctx_doc.contains("context") && ctx_doc["context"].is_object() ? ctx_doc["context"] : json();
  auto get = [&](const char* key) {
    return context.is_object() && context.contains(key) ? context[key] : json();
  };
  json version = get("attrib_version");
  if (version.is_null() && ctx_doc.contains("attrib_version")) version = ctx_doc["attrib_version"];
  return {{"source", source},
          {"git_commit", get("git_commit")},
          {"git_dirty", get("git_dirty")},
          {"date_utc", get("date_utc")},
          {"attrib_version", version},
          {"libtorch_version", get("libtorch_version")},
          {"suite", get("suite")},
          {"seed", get("seed")},
          {"device", get("device")},
          {"host", get("host")},
          {"json_schema_version", ctx_doc.value("json_schema_version", json())},
          {"context", context}};
}

// Difference of means of two independent samples, bootstrapped independently.
stats::Interval unpaired_ci(const std::vector<double>& base, const std::vector<double>& cur,
                            const CompareOptions& o) {
  const auto B = static_cast<std::size_t>(o.bootstrap_resamples);
  if (B == 0 || base.empty() || cur.empty()) return {kNaN, kNaN};
  const stats::BootstrapIndices ib(base.size(), B, o.seed), ic(cur.size(), B, o.seed + 1);
  std::vector<double> reps(B);
  for (std::size_t b = 0; b < B; ++b)
    reps[b] = stats::replicate_mean(cur, ic, b) - stats::replicate_mean(base, ib, b);
  return stats::percentile_interval(reps, 1.0 - o.alpha);
}

// ---------------------------------------------------------------------------------------------
// Metric rows

json compare_row(const Row* b, const Row* c, const CompareOptions& o) {
  const Row& any = b ? *b : *c;
  json e = {{"dataset", any.dataset},
            {"model", any.model},
            {"method", any.method},
            {"metric", any.metric},
            {"direction", any.direction},
            {"baseline_row", b ? json(b->index) : json()},
            {"current_row", c ? json(c->index) : json()},
            {"notes", json::array()}};
  auto side = [](const Row& r) {
    return json{{"mean", num(stats::mean(r.scores))},
                {"n", r.scores.size() - stats::count_undefined(r.scores)},
                {"n_undefined", stats::count_undefined(r.scores)},
                {"error", r.failed ? json(r.error) : json()}};
  };
  if (b) e["baseline"] = side(*b);
  if (c) e["current"] = side(*c);
  auto finish = [&](const std::string& status, const std::string& reason) {
    e["status"] = status;
    e["regression"] = is_regression(status);
    if (!reason.empty()) e["reason"] = reason;
    return e;
  };
  if (!c)
    return b->failed ? finish("still_failing", "failed in the baseline, absent now")
                     : finish("missing", "in the baseline, absent from the current run");
  if (!b) return finish("new", "absent from the baseline");
  if (b->failed && c->failed) return finish("still_failing", "failed in both runs");
  if (b->failed) return finish("fixed", "failed in the baseline, scored now");
  if (c->failed) return finish("errored", "the current run failed: " + c->error);

  // Choices.
  json diffs = json::array();
  if (b->direction != c->direction)
    diffs.push_back({{"key", "direction"}, {"baseline", b->direction}, {"current", c->direction}});
  differing_keys(b->method_info, c->method_info, "method_info", diffs, {"version"});
  differing_keys(b->metric_info, c->metric_info, "metric_info", diffs, {"version"});
  const std::pair<const char*, std::pair<const json*, const json*>> infos[] = {
      {"method_info", {&b->method_info, &c->method_info}},
      {"metric_info", {&b->metric_info, &c->metric_info}}};
  for (const auto& [part, pair] : infos) {
    const json& vb = *pair.first;
    const json& vc = *pair.second;
    const json version_b = vb.is_object() ? vb.value("version", json()) : json();
    const json version_c = vc.is_object() ? vc.value("version", json()) : json();
    if (version_b != version_c)
      e["notes"].push_back(std::string(part) + ".version " + version_b.dump() + " → " +
                           version_c.dump());
  }
  if (!diffs.empty()) {
    e["differing_keys"] = diffs;
    return finish("not_comparable", "the recorded choices differ");
  }

  const std::size_t defined_b = b->scores.size() - stats::count_undefined(b->scores);
  const std::size_t defined_c = c->scores.size() - stats::count_undefined(c->scores);
  if (defined_b == 0) return finish("not_comparable", "no defined score in the baseline");
  if (defined_c == 0) return finish("errored", "no defined score in the current run");

  const int dir = b->direction;
  double difference = kNaN, base_mean = kNaN, p = kNaN, statistic = kNaN, effect = kNaN;
  stats::Interval ci{kNaN, kNaN};
  const bool paired = !b->ids.empty() && !c->ids.empty();
  e["paired"] = paired;
  if (paired) {
    // Pair by id: both defined.
    const std::vector<std::string> kb = example_keys(b->ids), kc = example_keys(c->ids);
    std::map<std::string, std::size_t> where;
    for (std::size_t i = 0; i < kc.size(); ++i) where[kc[i]] = i;
    std::vector<double> xb, xc;
    std::size_t only_b = 0, dropped = 0;
    std::set<std::string> in_b(kb.begin(), kb.end());
    for (std::size_t i = 0; i < kb.size(); ++i) {
      const auto it = where.find(kb[i]);
      if (it == where.end()) {
        ++only_b;
        continue;
      }
      const double vb = b->scores[i], vc = c->scores[it->second];
      if (!stats::is_defined(vb) || !stats::is_defined(vc)) {
        ++dropped;
        continue;
      }
      xb.push_back(vb);
      xc.push_back(vc);
    }
    std::size_t only_c = 0;
    for (const auto& k : kc) only_c += in_b.count(k) == 0;
    e["n_pairs"] = xb.size();
    e["n_only_baseline"] = only_b;
    e["n_only_current"] = only_c;
    e["n_pairs_undefined"] = dropped;
    if (only_b > 0)
      e["notes"].push_back(std::to_string(only_b) +
                           " baseline example(s) absent from the current run");
    if (xb.empty()) return finish("not_comparable", "no example scored (defined) in both runs");
    const std::vector<double> d = stats::paired_differences(xc, xb);
    difference = stats::mean(d);
    base_mean = stats::mean(xb);
    const stats::WilcoxonResult w = stats::wilcoxon_signed_rank(d);
    p = w.p_value;
    statistic = w.statistic;
    effect = w.rank_biserial;
    e["test"] =
        w.n_used == 0
            ? std::string("wilcoxon signed-rank: every paired difference is zero (no test)")
            : std::string("wilcoxon signed-rank (current - baseline), zeros discarded, ") +
                  (w.exact ? "exact" : "normal approximation with tie and continuity correction") +
                  ", two-sided";
    if (o.bootstrap_resamples > 0) {
      const stats::BootstrapIndices idx(d.size(), static_cast<std::size_t>(o.bootstrap_resamples),
                                        o.seed);
      ci = stats::bootstrap_mean_ci(d, idx, 1.0 - o.alpha).ci;
    }
  } else {
    e["notes"].push_back("unpaired: a row has no example_ids");
    const std::vector<double> xb = stats::defined_values(b->scores),
                              xc = stats::defined_values(c->scores);
    difference = stats::mean(xc) - stats::mean(xb);
    base_mean = stats::mean(xb);
    const stats::MannWhitneyResult mw = stats::mann_whitney_u(xc, xb);
    p = mw.p_value;
    statistic = mw.statistic;
    effect = mw.rank_biserial;
    e["test"] = std::string("mann-whitney U (current vs baseline), ") +
                (mw.exact ? "exact" : "normal approximation with tie and continuity correction") +
                ", two-sided";
    ci = unpaired_ci(xb, xc, o);
  }
  const double worse_by = -dir * difference;
  const double threshold = o.relative_tolerance ? o.tolerance * std::fabs(base_mean) : o.tolerance;
  const bool significant = stats::is_defined(p) && p < o.alpha;
  e["difference"] = num(difference);
  e["ci_low"] = num(ci.low);
  e["ci_high"] = num(ci.high);
  e["worse_by"] = num(worse_by);
  e["threshold"] = num(threshold);
  e["p_value"] = num(p);
  e["statistic"] = num(statistic);
  e["rank_biserial"] = num(effect);
  e["significant"] = significant;
  if (significant && worse_by > threshold) return finish("regression", "");
  if (significant && -worse_by > threshold) return finish("improvement", "");
  return finish("unchanged", !significant ? "not significant" : "within tolerance");
}

// ---------------------------------------------------------------------------------------------
// Throughput

// Why timings of the two runs cannot be compared (another machine or thread count), or "".
std::string timing_mismatch(const json& baseline, const json& current) {
  auto ctx = [](const json& doc, const char* key) {
    const json& c = doc.contains("context") && doc["context"].is_object() ? doc["context"] : json();
    return c.is_object() && c.contains(key) ? c[key] : json();
  };
  const json mb = ctx(baseline, "machine"), mc = ctx(current, "machine");
  // Older results record no machine: their timings are compared as before.
  if (mb.is_object() && mc.is_object() && mb != mc)
    return "measured on different machines (baseline " + mb.dump() + ", current " + mc.dump() +
           "): compare fraction_of_limit instead";
  const json tb = ctx(baseline, "threads"), tc = ctx(current, "threads");
  if (tb.is_object() && tc.is_object() &&
      tb.value("intra_op", json()) != tc.value("intra_op", json()))
    return "measured with " + tb.value("intra_op", json()).dump() + " and " +
           tc.value("intra_op", json()).dump() + " threads";
  return "";
}

json compare_speed(const Speed* b, const Speed* c, const CompareOptions& o,
                   const std::string& mismatch) {
  const Speed& any = b ? *b : *c;
  json e = {{"dataset", any.dataset},
            {"model", any.model},
            {"method", any.method},
            {"device", any.device},
            {"batch_size", any.batch_size},
            {"baseline_entry", b ? json(b->index) : json()},
            {"current_entry", c ? json(c->index) : json()}};
  auto side = [](const Speed& s) {
    json j = {{"median_seconds", num(stats::median(s.seconds))},
              {"repetitions", s.seconds.size()},
              {"fraction_of_limit", s.fraction_of_limit},
              {"error", s.error.empty() ? json() : json(s.error)}};
    if (!s.seconds.empty()) {
      j["min_seconds"] = *std::min_element(s.seconds.begin(), s.seconds.end());
      j["max_seconds"] = *std::max_element(s.seconds.begin(), s.seconds.end());
    }
    return j;
  };
  if (b) e["baseline"] = side(*b);
  if (c) e["current"] = side(*c);
  auto finish = [&](const std::string& status, const std::string& reason) {
    e["status"] = status;
    e["regression"] = is_regression(status);
    if (!reason.empty()) e["reason"] = reason;
    return e;
  };
  const bool b_failed = b && (!b->error.empty() || b->seconds.empty());
  const bool c_failed = c && (!c->error.empty() || c->seconds.empty());
  if (!c)
    return b_failed ? finish("still_failing", "failed in the baseline, absent now")
                    : finish("missing", "in the baseline, absent from the current run");
  if (!b) return finish("new", "absent from the baseline");
  if (b_failed && c_failed) return finish("still_failing", "no timing in either run");
  if (b_failed) return finish("fixed", "no timing in the baseline, timed now");
  if (c_failed)
    return finish("errored", c->error.empty() ? "no timed repetition in the current run"
                                              : "the current run failed: " + c->error);
  // The fraction of each run's own model limit compares across machines, unlike seconds.
  if (b->fraction_of_limit.is_number() && c->fraction_of_limit.is_number() &&
      b->fraction_of_limit.get<double>() > 0)
    e["fraction_ratio"] =
        num(c->fraction_of_limit.get<double>() / b->fraction_of_limit.get<double>());
  if (!mismatch.empty()) return finish("not_comparable", mismatch);
  json diffs = json::array();
  differing_keys(b->kind, c->kind, "kind", diffs);
  differing_keys(b->isolated, c->isolated, "isolated", diffs);
  differing_keys(b->warmup, c->warmup, "warmup", diffs);
  differing_keys(b->examples_per_repetition, c->examples_per_repetition, "examples_per_repetition",
                 diffs);
  if (!diffs.empty()) {
    e["differing_keys"] = diffs;
    return finish("not_comparable", "the timing setup differs");
  }
  const double mb = stats::median(b->seconds), mc = stats::median(c->seconds);
  const double ratio = mb > 0.0 ? mc / mb : kNaN;
  const stats::MannWhitneyResult mw = stats::mann_whitney_u(c->seconds, b->seconds);
  const bool significant = stats::is_defined(mw.p_value) && mw.p_value < o.alpha;
  e["ratio"] = num(ratio);
  e["p_value"] = num(mw.p_value);
  e["u"] = num(mw.u_x);
  e["rank_biserial"] = num(mw.rank_biserial);
  e["test"] = std::string("mann-whitney U on seconds per repetition (current vs baseline), ") +
              (mw.exact ? "exact" : "normal approximation with tie and continuity correction") +
              ", two-sided";
  e["significant"] = significant;
  if (significant && ratio > 1.0 + o.speed_tolerance) return finish("regression", "");
  if (significant && ratio < 1.0 / (1.0 + o.speed_tolerance)) return finish("improvement", "");
  return finish("unchanged", !significant ? "not significant" : "within tolerance");
}

}  // namespace

bool is_regression(const std::string& status) {
  return status == "regression" || status == "missing" || status == "errored";
}

void check_results_document(const nlohmann::json& doc, const std::string& source) {
  Reader(source).read(doc);
}

nlohmann::json compare_results(const nlohmann::json& baseline, const nlohmann::json& current,
                               const CompareOptions& o, const std::string& baseline_source,
                               const std::string& current_source) {
  ATTRIB_CHECK(o.tolerance >= 0.0, "compare: expected tolerance >= 0, got ", o.tolerance);
  ATTRIB_CHECK(o.speed_tolerance >= 0.0, "compare: expected speed tolerance >= 0, got ",
               o.speed_tolerance);
  ATTRIB_CHECK(o.alpha > 0.0 && o.alpha < 1.0, "compare: expected alpha in (0, 1), got ", o.alpha);
  ATTRIB_CHECK(o.bootstrap_resamples >= 0, "compare: expected bootstrap resamples >= 0, got ",
               o.bootstrap_resamples);
  const Doc b = Reader(baseline_source).read(baseline);
  const Doc c = Reader(current_source).read(current);

  // Metric rows: baseline order, then rows new in the current run.
  std::vector<json> metrics;
  std::map<RowKey, const Row*> current_rows;
  for (const Row& r : c.rows) current_rows[{r.dataset, r.model, r.method, r.metric}] = &r;
  std::set<RowKey> matched;
  for (const Row& r : b.rows) {
    const RowKey key{r.dataset, r.model, r.method, r.metric};
    const auto it = current_rows.find(key);
    matched.insert(key);
    metrics.push_back(compare_row(&r, it == current_rows.end() ? nullptr : it->second, o));
  }
  for (const Row& r : c.rows)
    if (!matched.count({r.dataset, r.model, r.method, r.metric}))
      metrics.push_back(compare_row(nullptr, &r, o));

  std::vector<json> speeds;
  const std::string mismatch = timing_mismatch(baseline, current);
  std::map<SpeedKey, const Speed*> current_speeds;
  for (const Speed& s : c.speeds)
    current_speeds[{s.dataset, s.model, s.method, s.device, s.batch_size}] = &s;
  std::set<SpeedKey> matched_speed;
  for (const Speed& s : b.speeds) {
    const SpeedKey key{s.dataset, s.model, s.method, s.device, s.batch_size};
    const auto it = current_speeds.find(key);
    matched_speed.insert(key);
    speeds.push_back(
        compare_speed(&s, it == current_speeds.end() ? nullptr : it->second, o, mismatch));
  }
  for (const Speed& s : c.speeds)
    if (!matched_speed.count({s.dataset, s.model, s.method, s.device, s.batch_size}))
      speeds.push_back(compare_speed(nullptr, &s, o, mismatch));

  // Model rows, before the metric entries are sorted: deterministic, so noise cannot hide them.
  std::vector<json> work =
      compare_work(baseline, current, metrics, baseline_source, current_source);

  auto by_status = [](const json& x, const json& y) {
    return priority(x["status"].get<std::string>()) < priority(y["status"].get<std::string>());
  };
  std::stable_sort(metrics.begin(), metrics.end(), by_status);
  std::stable_sort(speeds.begin(), speeds.end(), by_status);
  std::stable_sort(work.begin(), work.end(), by_status);

  json counts = json::object();
  std::size_t regressions = 0, metric_regressions = 0, speed_regressions = 0;
  for (const json& e : metrics) {
    counts[e["status"].get<std::string>()] = counts.value(e["status"].get<std::string>(), 0) + 1;
    if (e["regression"].get<bool>()) ++metric_regressions;
  }
  json speed_counts = json::object();
  for (const json& e : speeds) {
    speed_counts[e["status"].get<std::string>()] =
        speed_counts.value(e["status"].get<std::string>(), 0) + 1;
    if (e["regression"].get<bool>()) ++speed_regressions;
  }
  json work_counts = json::object();
  std::size_t work_regressions = 0;
  for (const json& e : work) {
    work_counts[e["status"].get<std::string>()] =
        work_counts.value(e["status"].get<std::string>(), 0) + 1;
    if (e["regression"].get<bool>()) ++work_regressions;
  }
  regressions = metric_regressions + speed_regressions + work_regressions;

  json settings = {
      {"tolerance", o.tolerance},
      {"tolerance_mode",
       o.relative_tolerance ? "relative (fraction of |baseline mean|)" : "absolute (metric units)"},
      {"speed_tolerance", o.speed_tolerance},
      {"alpha", o.alpha},
      {"confidence", 1.0 - o.alpha},
      {"bootstrap_resamples", o.bootstrap_resamples},
      {"bootstrap_seed", o.seed},
      {"metric_match", "(dataset, model, method, metric)"},
      {"metric_pairing",
       "examples paired by example id (repeated ids by occurrence) when both rows have ids; "
       "pairs with an undefined score dropped and counted; else unpaired"},
      {"metric_difference",
       "mean over pairs of current - baseline (unpaired: difference of means)"},
      {"metric_ci",
       "percentile bootstrap of the mean difference (paired: resampled pairs; unpaired: each run "
       "resampled independently, seeds seed and seed + 1)"},
      {"metric_test",
       "paired: wilcoxon signed-rank (zeros discarded; exact for n <= 25, else normal approx. "
       "with tie and continuity correction); unpaired: mann-whitney U; two-sided"},
      {"metric_regression",
       "worse in the metric's direction by more than the threshold and p < alpha"},
      {"metric_improvement", "better by more than the threshold and p < alpha"},
      {"not_comparable",
       "method_info, metric_info or direction differ (the top-level 'version' keys are ignored "
       "and reported as notes)"},
      {"speed_match", "(dataset, model, method, device, batch_size)"},
      {"speed_test",
       "mann-whitney U on the seconds per repetition, two-sided (exact without ties when a run "
       "has <= 8 repetitions, else normal approx. with tie and continuity correction)"},
      {"speed_regression",
       "median seconds ratio current/baseline > 1 + speed_tolerance and p < alpha"},
      {"speed_improvement", "ratio < 1 / (1 + speed_tolerance) and p < alpha"},
      {"speed_not_comparable",
       "kind, isolated, warmup or examples_per_repetition differ, or the runs' context.machine "
       "(host, CPU model, logical CPUs) or intra-op threads differ; fraction_ratio (current / "
       "baseline fraction_of_limit) is given even then"},
      {"work_match",
       "(dataset, model, method, stage): stage 'explain' (forward + backward rows "
       "from explanations) or a metric (rows forwarded, from scoring)"},
      {"work_regression",
       "more model rows with the same choices and examples (and, for a metric, the same methods "
       "in the same order); any increase counts: row counts do not depend on the machine"},
      {"missing", "present and not failed in the baseline, absent or failed now: a regression"}};

  return {{"json_schema_version", kCompareSchemaVersion},
          {"kind", "attrib compare report"},
          {"baseline", summary_of(baseline, baseline_source)},
          {"current", summary_of(current, current_source)},
          {"settings", settings},
          {"summary",
           {{"regressions", regressions},
            {"metric_regressions", metric_regressions},
            {"throughput_regressions", speed_regressions},
            {"work_regressions", work_regressions},
            {"metrics", counts},
            {"throughput", speed_counts},
            {"work", work_counts},
            {"exit_code", regressions > 0 ? kCompareRegressionExit : 0}}},
          {"metrics", metrics},
          {"throughput", speeds},
          {"work", work}};
}

}  // namespace attrib
