// `attrib compare` (compare.h, harness/cli/compare_command.cpp) and the Mann–Whitney U test
// (stats.h), with hand-computed answers.
#include "compare.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "attrib/error.h"
#include "common/stats.h"
#include "leaderboard.h"
#include "reporters.h"
#include "results.h"

namespace fs = std::filesystem;
using nlohmann::json;
namespace st = attrib::stats;

namespace {

struct Result {
  int code;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path tmp_dir() {
  const fs::path dir = fs::path(ATTRIB_TEST_TMP) / "compare";
  fs::create_directories(dir);
  return dir;
}

// Runs the attrib binary with `args` (shell words); captures stdout and stderr.
Result run_cli(const std::string& args, const std::string& tag) {
  const fs::path dir = tmp_dir();
  const fs::path out = dir / (tag + ".out"), err = dir / (tag + ".err");
  const std::string cmd =
      "'" ATTRIB_BIN "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

std::string write_doc(const std::string& name, const json& doc) {
  const fs::path p = tmp_dir() / name;
  std::ofstream(p) << doc.dump(2);
  return p.string();
}

// A baseline run: two methods x two metrics on 30 examples, and one throughput entry with 9
// repetitions.
attrib::RunResults baseline_results() {
  attrib::RunResults r;
  r.context = {
      {"git_commit", "1111111"}, {"git_dirty", false}, {"date_utc", "2026-11-01T00:00:00Z"},
      {"suite", "cmp"},          {"seed", 0},          {"device", "cpu"}};
  const int n = 30;
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back("ex-" + std::to_string(i));
  for (const std::string method : {"saliency", "occlusion"}) {
    for (const std::string metric : {"deletion", "insertion"}) {
      attrib::ScoreRow row;
      row.dataset = "planted";
      row.model = "tiny";
      row.method = method;
      row.metric = metric;
      row.direction = metric == "deletion" ? -1 : +1;
      row.method_info = {{"plugin", method}, {"version", "1.0.0"}, {"params", {{"abs", true}}}};
      row.metric_info = {{"metric", metric}, {"choices", {{"substrate", "unk"}}}};
      row.example_ids = ids;
      for (int i = 0; i < n; ++i)
        row.scores.push_back(0.4 + 0.01 * ((7 * i + (method == "saliency" ? 0 : 3)) % 10));
      r.rows.push_back(row);
    }
  }
  // 9 repetitions, 1.00 .. 1.08 s in a shuffled order.
  r.analyses["throughput"].push_back(
      {{"dataset", "planted"},
       {"model", "tiny"},
       {"method", "saliency"},
       {"kind", "method"},
       {"device", "cpu"},
       {"batch_size", 8},
       {"warmup", 2},
       {"examples_per_repetition", 64},
       {"seconds", {1.04, 1.00, 1.07, 1.02, 1.08, 1.01, 1.05, 1.03, 1.06}},
       {"explanations_per_second", {{"median", 64 / 1.04}}},
       {"peak_memory_bytes", nullptr}});
  return r;
}

json document(const attrib::RunResults& r) {
  attrib::StatsOptions s;
  s.bootstrap_resamples = 50;
  return attrib::results_document(r, attrib::compute_leaderboards(r, s));
}

// The baseline with occlusion's insertion made worse by 0.1 on every example, its deletion made
// better by 0.1 on every example, and the throughput 30 % slower.
attrib::RunResults worse_results() {
  attrib::RunResults r = baseline_results();
  r.context["git_commit"] = "2222222";
  r.context["date_utc"] = "2026-11-02T00:00:00Z";
  for (auto& row : r.rows)
    if (row.method == "occlusion")
      for (double& v : row.scores) v -= 0.1;  // insertion (higher is better) worse, deletion better
  for (json& s : r.analyses["throughput"][0]["seconds"]) s = s.get<double>() * 1.3;
  return r;
}

const json* find_entry(const json& list, const std::string& method, const std::string& metric) {
  for (const json& e : list)
    if (e["method"] == method && (metric.empty() || e.value("metric", "") == metric)) return &e;
  return nullptr;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Mann–Whitney U

TEST(CompareMannWhitney, ExactKnownAnswers) {
  // x = [1, 2, 3] all below y = [4, 5, 6]: U_x = 0. Of the C(6, 3) = 20 equally likely
  // arrangements only one has U = 0: p = 2 * 1/20 = 0.1.
  st::MannWhitneyResult r = st::mann_whitney_u({1, 2, 3}, {4, 5, 6});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u_x, 0.0);
  EXPECT_DOUBLE_EQ(r.u_y, 9.0);
  EXPECT_DOUBLE_EQ(r.p_value, 0.1);
  EXPECT_DOUBLE_EQ(r.rank_biserial, -1.0);
  // x = [1, 2, 5], y = [3, 4, 6]: U_x = 2 (5 > 3, 5 > 4). Counts of U = 0..9 for 3 vs 3:
  // 1, 1, 2, 3, 3, 3, 3, 2, 1, 1. P(U <= 2) = 4/20: p = 0.4.
  r = st::mann_whitney_u({1, 2, 5}, {3, 4, 6});
  EXPECT_DOUBLE_EQ(r.u_x, 2.0);
  EXPECT_NEAR(r.p_value, 0.4, 1e-12);
  // Unequal sizes: x = [3, 10], y = [1, 2, 4, 5, 6]: U_x = 2 + 5 = 7. Counts of U = 0..10 for
  // 2 vs 5 (C(7, 2) = 21): 1, 1, 2, 2, 3, 3, 3, 2, 2, 1, 1. P(U >= 7) = 6/21: p = 12/21.
  r = st::mann_whitney_u({3, 10}, {1, 2, 4, 5, 6});
  EXPECT_DOUBLE_EQ(r.u_x, 7.0);
  EXPECT_NEAR(r.p_value, 12.0 / 21.0, 1e-12);
  // Swapped roles: U = 3, P(U <= 3) = 6/21, the same p.
  r = st::mann_whitney_u({1, 2, 4, 5, 6}, {3, 10});
  EXPECT_DOUBLE_EQ(r.u_x, 3.0);
  EXPECT_NEAR(r.p_value, 12.0 / 21.0, 1e-12);
}

TEST(CompareMannWhitney, NormalApproximationWithTies) {
  // x = [1, 2, 2, 3], y = [2, 3, 4, 5]. Pooled average ranks: 1 -> 1; the three 2s -> 3;
  // the two 3s -> 5.5; 4 -> 7; 5 -> 8. R_x = 1 + 3 + 3 + 5.5 = 12.5, U_x = 12.5 - 10 = 2.5.
  // Ties -> normal approximation: mu = 8; sum(t^3 - t) = 24 + 6 = 30;
  // sigma^2 = 16/12 * (9 - 30/56) = 11.2857142857; z = (2.5 - 8 + 0.5) / sigma = -1.48835139;
  // p = erfc(1.48835139 / sqrt 2) = 0.136658248 (R: wilcox.test(x, y, exact = FALSE)).
  const st::MannWhitneyResult r = st::mann_whitney_u({1, 2, 2, 3}, {2, 3, 4, 5});
  EXPECT_FALSE(r.exact);
  EXPECT_TRUE(r.ties);
  EXPECT_DOUBLE_EQ(r.u_x, 2.5);
  EXPECT_NEAR(r.z, -1.4883513944689681, 1e-12);
  EXPECT_NEAR(r.p_value, 0.13665824773814753, 1e-12);
  // 9 vs 9 without ties (above the exact limit), every x below every y: U = 0, mu = 40.5,
  // sigma^2 = 81 * 19 / 12 = 128.25, z = (0 - 40.5 + 0.5) / sqrt(128.25) = -3.53208629,
  // p = 4.12294802e-4.
  const st::MannWhitneyResult big =
      st::mann_whitney_u({1, 2, 3, 4, 5, 6, 7, 8, 9}, {11, 12, 13, 14, 15, 16, 17, 18, 19});
  EXPECT_FALSE(big.exact);
  EXPECT_NEAR(big.z, -3.5320862855067836, 1e-12);
  EXPECT_NEAR(big.p_value, 0.0004122948020616911, 1e-15);
  // Undefined values are dropped and counted; an empty sample gives NaN.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const st::MannWhitneyResult dropped = st::mann_whitney_u({1, nan, 2, 3}, {4, 5, 6, nan});
  EXPECT_EQ(dropped.n_undefined, 2u);
  EXPECT_DOUBLE_EQ(dropped.p_value, 0.1);
  EXPECT_TRUE(std::isnan(st::mann_whitney_u({}, {1, 2}).p_value));
  EXPECT_TRUE(std::isnan(st::mann_whitney_u({1, 1, 1}, {1, 1}).p_value));  // all tied
}

// ------------------------------------------------------------------------------------------------
// compare_results

TEST(Compare, SelfCompareHasNoRegression) {
  const json doc = document(baseline_results());
  const json report = attrib::compare_results(doc, doc, {}, "a.json", "a.json");
  EXPECT_EQ(report["json_schema_version"], attrib::kCompareSchemaVersion);
  EXPECT_EQ(report["summary"]["regressions"], 0);
  EXPECT_EQ(report["summary"]["exit_code"], 0);
  EXPECT_EQ(report["summary"]["metrics"]["unchanged"], 4);
  EXPECT_EQ(report["summary"]["throughput"]["unchanged"], 1);
  EXPECT_EQ(report["baseline"]["git_commit"], "1111111");
  for (const json& e : report["metrics"]) {
    EXPECT_EQ(e["n_pairs"], 30);
    EXPECT_EQ(e["difference"], 0.0);
  }
  EXPECT_DOUBLE_EQ(report["throughput"][0]["ratio"].get<double>(), 1.0);
}

TEST(Compare, WorseRunListsRegressionsFirstAndImprovements) {
  const json base = document(baseline_results());
  const json cur = document(worse_results());
  const json report = attrib::compare_results(base, cur, {}, "base.json", "cur.json");
  EXPECT_EQ(report["summary"]["exit_code"], 6);
  EXPECT_EQ(report["summary"]["metric_regressions"], 1);
  EXPECT_EQ(report["summary"]["throughput_regressions"], 1);
  EXPECT_EQ(report["current"]["git_commit"], "2222222");
  EXPECT_EQ(report["current"]["date_utc"], "2026-11-02T00:00:00Z");
  // Regressions come first.
  const json& first = report["metrics"][0];
  EXPECT_EQ(first["status"], "regression");
  EXPECT_EQ(first["method"], "occlusion");
  EXPECT_EQ(first["metric"], "insertion");
  EXPECT_NEAR(first["difference"].get<double>(), -0.1, 1e-12);
  EXPECT_NEAR(first["worse_by"].get<double>(), 0.1, 1e-12);
  EXPECT_NEAR(first["ci_low"].get<double>(), -0.1, 1e-9);  // every difference is -0.1
  EXPECT_LT(first["p_value"].get<double>(), 0.05);
  EXPECT_TRUE(first["paired"].get<bool>());
  // Deletion went down by 0.1: lower is better, so an improvement, not a regression.
  const json* del = find_entry(report["metrics"], "occlusion", "deletion");
  ASSERT_NE(del, nullptr);
  EXPECT_EQ((*del)["status"], "improvement");
  EXPECT_FALSE((*del)["regression"].get<bool>());
  const json* sal = find_entry(report["metrics"], "saliency", "insertion");
  EXPECT_EQ((*sal)["status"], "unchanged");
  // Throughput: 30 % slower, all 9 current repetitions slower than all 9 baseline ones:
  // U = 81 (current vs baseline), p = 4.12294802e-4 as in NormalApproximationWithTies.
  const json& speed = report["throughput"][0];
  EXPECT_EQ(speed["status"], "regression");
  EXPECT_NEAR(speed["ratio"].get<double>(), 1.3, 1e-12);
  EXPECT_NEAR(speed["p_value"].get<double>(), 0.0004122948020616911, 1e-12);
  // A relative tolerance of 50 % of the baseline mean (0.5 * 0.445 = 0.2225) hides the 0.1
  // change, and a 40 % speed tolerance the 30 % slowdown.
  attrib::CompareOptions loose;
  loose.tolerance = 0.5;
  loose.relative_tolerance = true;
  loose.speed_tolerance = 0.4;
  const json relaxed = attrib::compare_results(base, cur, loose);
  EXPECT_EQ(relaxed["summary"]["regressions"], 0);
  EXPECT_EQ(find_entry(relaxed["metrics"], "occlusion", "insertion")->value("reason", ""),
            "within tolerance");
  // Markdown: regressions first.
  const std::string md = attrib::compare_markdown(report);
  const auto reg = md.find("**REGRESSION** | planted | tiny | occlusion | insertion");
  const auto imp = md.find("improvement | planted | tiny | occlusion | deletion");
  ASSERT_NE(reg, std::string::npos) << md;
  ASSERT_NE(imp, std::string::npos) << md;
  EXPECT_LT(reg, imp);
  EXPECT_NE(md.find("2 regression(s)"), std::string::npos);
}

TEST(Compare, UnpairedWithoutExampleIds) {
  attrib::RunResults b = baseline_results(), c = worse_results();
  for (auto& row : b.rows) row.example_ids.clear();
  const json report = attrib::compare_results(document(b), document(c), {});
  const json* e = find_entry(report["metrics"], "occlusion", "insertion");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE((*e)["paired"].get<bool>());
  EXPECT_EQ((*e)["status"], "regression");
  EXPECT_NE((*e)["test"].get<std::string>().find("mann-whitney"), std::string::npos);
}

TEST(Compare, MismatchedChoicesAreNotComparable) {
  attrib::RunResults c = baseline_results();
  c.rows[0].metric_info["choices"]["substrate"] = "mask";  // saliency / deletion
  c.rows[1].method_info["version"] = "1.1.0";              // saliency / insertion: only a note
  c.analyses["throughput"][0]["examples_per_repetition"] = 32;
  const json report = attrib::compare_results(document(baseline_results()), document(c), {});
  const json* e = find_entry(report["metrics"], "saliency", "deletion");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ((*e)["status"], "not_comparable");
  EXPECT_FALSE((*e)["regression"].get<bool>());
  ASSERT_EQ((*e)["differing_keys"].size(), 1u);
  EXPECT_EQ((*e)["differing_keys"][0]["key"], "metric_info.choices.substrate");
  EXPECT_EQ((*e)["differing_keys"][0]["baseline"], "unk");
  EXPECT_EQ((*e)["differing_keys"][0]["current"], "mask");
  const json* v = find_entry(report["metrics"], "saliency", "insertion");
  EXPECT_EQ((*v)["status"], "unchanged");
  ASSERT_EQ((*v)["notes"].size(), 1u);
  EXPECT_NE((*v)["notes"][0].get<std::string>().find("1.1.0"), std::string::npos);
  EXPECT_EQ(report["throughput"][0]["status"], "not_comparable");
  EXPECT_EQ(report["summary"]["regressions"], 0);
}

TEST(Compare, TimingsThroughAWorkerProcessAreNotComparableWithInProcessOnes) {
  attrib::RunResults c = baseline_results();
  c.analyses["throughput"][0]["isolated"] = true;  // a fork per call (attrib run --isolate)
  const json report = attrib::compare_results(document(baseline_results()), document(c), {});
  EXPECT_EQ(report["throughput"][0]["status"], "not_comparable");
  EXPECT_EQ(report["throughput"][0]["differing_keys"][0]["key"], "isolated");
  c.analyses["throughput"][0]["isolated"] = "yes";
  try {
    attrib::check_results_document(document(c), "x.json");
    FAIL() << "expected an error";
  } catch (const attrib::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "x.json: throughput[0].isolated: expected boolean or null, got string");
  }
}

TEST(Compare, MissingErroredAndNewRows) {
  attrib::RunResults c = baseline_results();
  c.rows.erase(c.rows.begin());        // saliency / deletion missing
  c.rows[0].error = "explain failed";  // saliency / insertion errored
  c.rows[0].scores.clear();
  attrib::ScoreRow extra = c.rows[1];
  extra.method = "lime";
  c.rows.push_back(extra);
  c.analyses["throughput"].clear();  // the baseline timing is missing
  const json report = attrib::compare_results(document(baseline_results()), document(c), {});
  EXPECT_EQ(report["summary"]["regressions"], 3);
  EXPECT_EQ(find_entry(report["metrics"], "saliency", "deletion")->at("status"), "missing");
  EXPECT_EQ(find_entry(report["metrics"], "saliency", "insertion")->at("status"), "errored");
  EXPECT_EQ(find_entry(report["metrics"], "lime", "")->at("status"), "new");
  EXPECT_FALSE(find_entry(report["metrics"], "lime", "")->at("regression").get<bool>());
  EXPECT_EQ(report["throughput"][0]["status"], "missing");
}

TEST(Compare, MalformedDocumentsNameTheFileAndPath) {
  json doc = document(baseline_results());
  doc["rows"][3]["scores"] = "oops";
  try {
    attrib::check_results_document(doc, "baseline.json");
    FAIL() << "expected an error";
  } catch (const attrib::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "baseline.json: rows[3].scores: expected array of numbers, got string");
  }
  doc = document(baseline_results());
  doc["throughput"][0]["seconds"][4] = "slow";
  EXPECT_THROW(attrib::check_results_document(doc, "x.json"), attrib::Error);
  try {
    attrib::check_results_document(doc, "x.json");
  } catch (const attrib::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "x.json: throughput[0].seconds[4]: expected number, got string");
  }
  doc = document(baseline_results());
  doc["json_schema_version"] = 99;
  EXPECT_THROW(attrib::check_results_document(doc, "x.json"), attrib::Error);
  doc = document(baseline_results());
  doc["rows"].push_back(doc["rows"][0]);
  try {
    attrib::check_results_document(doc, "x.json");
    FAIL() << "expected an error";
  } catch (const attrib::Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.json: rows[4]: duplicate"), std::string::npos);
  }
}

// ------------------------------------------------------------------------------------------------
// The command line

TEST(Compare, CliExitCodes) {
  const std::string base = write_doc("base.json", document(baseline_results()));
  const std::string worse = write_doc("worse.json", document(worse_results()));

  Result r = run_cli("compare --help", "help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("usage: attrib compare"), std::string::npos);
  EXPECT_NE(run_cli("--help", "main_help").out.find("compare"), std::string::npos);

  // Self-compare: no regression, exit 0, Markdown on stdout.
  r = run_cli("compare '" + base + "' '" + base + "'", "self");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("No regression"), std::string::npos) << r.out;

  // Worse: exit 6, regressions listed; --json and --markdown files written.
  const fs::path report_json = tmp_dir() / "report.json", report_md = tmp_dir() / "report.md";
  r = run_cli("compare '" + base + "' '" + worse + "' --json '" + report_json.string() +
                  "' --markdown '" + report_md.string() + "'",
              "worse");
  EXPECT_EQ(r.code, 6) << r.err;
  EXPECT_NE(r.out.find("**REGRESSION** | planted | tiny | occlusion | insertion"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("**REGRESSION** | planted | tiny | saliency | cpu | 8"), std::string::npos)
      << r.out;
  EXPECT_EQ(slurp(report_md), r.out);
  const json report = json::parse(slurp(report_json));
  EXPECT_EQ(report["summary"]["regressions"], 2);
  EXPECT_EQ(report["baseline"]["git_commit"], "1111111");
  EXPECT_EQ(report["current"]["git_commit"], "2222222");

  // Bad input: exit 3 naming the file and the JSON path.
  json bad = document(baseline_results());
  bad["rows"][3]["scores"] = "oops";
  const std::string bad_path = write_doc("bad.json", bad);
  r = run_cli("compare '" + bad_path + "' '" + base + "'", "bad");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find(bad_path + ": rows[3].scores: expected array of numbers, got string"),
            std::string::npos)
      << r.err;
  const fs::path broken = tmp_dir() / "broken.json";
  std::ofstream(broken) << "{\n  \"rows\": [\n";
  r = run_cli("compare '" + base + "' '" + broken.string() + "'", "broken");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find(broken.string() + ":"), std::string::npos) << r.err;
  r = run_cli("compare '" + base + "' '" + (tmp_dir() / "absent.json").string() + "'", "absent");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("absent.json: cannot open"), std::string::npos) << r.err;

  // Usage errors: exit 2.
  EXPECT_EQ(run_cli("compare '" + base + "'", "one_file").code, 2);
  r = run_cli("compare '" + base + "' '" + base + "' --alpha 2", "alpha");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--alpha: expected a number > 0 and < 1, got \"2\""), std::string::npos)
      << r.err;
}

// Seconds compare on one machine with one thread count only; the fraction of each run's own
// model limit compares anywhere and is reported as fraction_ratio.
TEST(Compare, TimingsFromAnotherMachineAreNotComparableButFractionsAre) {
  attrib::RunResults b = baseline_results(), c = worse_results();  // 30 % slower
  b.context["machine"] = {{"host", "a"}, {"cpu_model", "X"}, {"logical_cpus", 2}};
  b.analyses["throughput"][0]["fraction_of_limit"] = 0.8;
  c.analyses["throughput"][0]["fraction_of_limit"] = 0.6;
  c.context["machine"] = b.context["machine"];
  json same = attrib::compare_results(document(b), document(c), {});
  EXPECT_EQ(same["throughput"][0]["status"], "regression");
  EXPECT_DOUBLE_EQ(same["throughput"][0]["fraction_ratio"].get<double>(), 0.6 / 0.8);
  EXPECT_EQ(same["throughput"][0]["current"]["fraction_of_limit"], 0.6);

  c.context["machine"]["cpu_model"] = "Y";
  json other = attrib::compare_results(document(b), document(c), {});
  EXPECT_EQ(other["throughput"][0]["status"], "not_comparable");
  EXPECT_NE(other["throughput"][0]["reason"].get<std::string>().find("different machines"),
            std::string::npos);
  EXPECT_DOUBLE_EQ(other["throughput"][0]["fraction_ratio"].get<double>(), 0.6 / 0.8);
  EXPECT_EQ(other["summary"]["throughput_regressions"], 0);

  c.context["machine"] = b.context["machine"];
  b.context["threads"] = {{"intra_op", 2}};
  c.context["threads"] = {{"intra_op", 4}};
  EXPECT_EQ(attrib::compare_results(document(b), document(c), {})["throughput"][0]["status"],
            "not_comparable");

  c.analyses["throughput"][0]["fraction_of_limit"] = "most";
  try {
    attrib::compare_results(document(b), document(c), {}, "b.json", "c.json");
    ADD_FAILURE() << "a string fraction_of_limit was accepted";
  } catch (const attrib::Error& e) {
    EXPECT_NE(std::string(e.what()).find("c.json: throughput[0].fraction_of_limit: expected number "
                                         "or null, got"),
              std::string::npos)
        << e.what();
  }
}

namespace {

// baseline_results() with model rows: saliency's explanations (`explain_rows` forward and as many
// backward) and every metric row's scoring (`deletion_rows` for deletion, 100 for insertion).
attrib::RunResults with_work(attrib::RunResults r, int64_t deletion_rows, int64_t explain_rows) {
  r.explanations = json::array({{{"dataset", "planted"},
                                 {"model", "tiny"},
                                 {"method", "saliency"},
                                 {"status", "ok"},
                                 {"n_examples", 30},
                                 {"forward_rows", explain_rows},
                                 {"backward_rows", explain_rows},
                                 {"params", {{"abs", true}}},
                                 {"choices", json::object()}}});
  for (const attrib::ScoreRow& row : r.rows)
    r.scoring.push_back({{"dataset", row.dataset},
                         {"model", row.model},
                         {"method", row.method},
                         {"metric", row.metric},
                         {"seconds", 1.0},
                         {"forward_rows", row.metric == "deletion" ? deletion_rows : 100},
                         {"saved_rows", 30},
                         {"model_seconds", 0.9}});
  return r;
}

const json* find_work(const json& report, const std::string& method, const std::string& stage) {
  for (const json& e : report["work"])
    if (e["method"] == method && e["stage"] == stage) return &e;
  return nullptr;
}

}  // namespace

// Model rows do not depend on the machine: any increase with the same choices, examples and
// methods is a regression, whatever the timings say; otherwise the entry is not comparable.
TEST(Compare, ModelRowsThatGrowAreRegressionsWithoutTimingNoise) {
  const json base = document(with_work(baseline_results(), 500, 30));
  const json self = attrib::compare_results(base, base, {});
  EXPECT_EQ(self["summary"]["work"]["unchanged"], 5);  // saliency's explanations + 4 metric rows
  EXPECT_EQ(self["summary"]["work_regressions"], 0);
  EXPECT_EQ(self["summary"]["exit_code"], 0);

  const json more = attrib::compare_results(base, document(with_work(baseline_results(), 520, 30)),
                                            {}, "base.json", "more.json");
  EXPECT_EQ(more["summary"]["work_regressions"], 2);  // deletion of both methods
  EXPECT_EQ(more["summary"]["regressions"], 2);
  EXPECT_EQ(more["summary"]["exit_code"], attrib::kCompareRegressionExit);
  const json* e = find_work(more, "occlusion", "deletion");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->at("status"), "regression");
  EXPECT_EQ(e->at("baseline")["rows"], 500);
  EXPECT_EQ(e->at("current")["rows"], 520);
  EXPECT_DOUBLE_EQ(e->at("ratio").get<double>(), 520.0 / 500.0);
  EXPECT_EQ(find_work(more, "occlusion", "insertion")->at("status"), "unchanged");
  const std::string md = attrib::compare_markdown(more);
  EXPECT_NE(md.find("## Model rows"), std::string::npos);
  EXPECT_NE(md.find("| **REGRESSION** | planted | tiny | occlusion | deletion | 500 | 520 |"),
            std::string::npos)
      << md;

  const json fewer =
      attrib::compare_results(base, document(with_work(baseline_results(), 500, 20)), {});
  EXPECT_EQ(find_work(fewer, "saliency", "explain")->at("status"), "improvement");
  EXPECT_EQ(fewer["summary"]["exit_code"], 0);

  // Other choices of the method: its explanations' rows are not comparable.
  attrib::RunResults other = with_work(baseline_results(), 500, 60);
  other.explanations[0]["params"]["abs"] = false;
  EXPECT_EQ(find_work(attrib::compare_results(base, document(other), {}), "saliency", "explain")
                ->at("status"),
            "not_comparable");

  // One method fewer: the forwards a metric shares between methods fall differently.
  attrib::RunResults alone = with_work(baseline_results(), 520, 30);
  alone.scoring.erase(std::remove_if(alone.scoring.begin(), alone.scoring.end(),
                                     [](const json& s) { return s["method"] == "occlusion"; }),
                      alone.scoring.end());
  const json fewer_methods = attrib::compare_results(base, document(alone), {});
  EXPECT_EQ(find_work(fewer_methods, "saliency", "deletion")->at("status"), "not_comparable");
  EXPECT_EQ(find_work(fewer_methods, "occlusion", "deletion")->at("status"), "missing");
  EXPECT_EQ(fewer_methods["summary"]["work_regressions"], 0);

  // Results written before the rows were kept compare nothing, and are no regression.
  attrib::RunResults old = with_work(baseline_results(), 900, 30);
  for (json& s : old.scoring) s["forward_rows"] = nullptr;
  const json unknown = attrib::compare_results(base, document(old), {});
  EXPECT_EQ(find_work(unknown, "saliency", "deletion")->at("status"), "not_comparable");
  EXPECT_EQ(unknown["summary"]["work_regressions"], 0);

  // A malformed count names the file and the JSON path.
  json bad = document(with_work(baseline_results(), 500, 30));
  bad["scoring"][1]["forward_rows"] = "many";
  try {
    attrib::compare_results(base, bad, {}, "base.json", "bad.json");
    ADD_FAILURE() << "a string forward_rows was accepted";
  } catch (const attrib::Error& err) {
    EXPECT_NE(
        std::string(err.what())
            .find("bad.json: scoring[1].forward_rows: expected integer or null, got \"many\""),
        std::string::npos)
        << err.what();
  }
}
