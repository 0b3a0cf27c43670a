// Durable runs end to end (the attrib binary on a small suite): a run killed at any point resumes
// to exactly the results of an uninterrupted run without recomputing finished units; SIGINT stops
// with partial results and a resume line; a new metric reuses every explanation; an export read
// back through the `precomputed` method gives the same scores; a damaged store is refused.
#include <gtest/gtest.h>

#include <set>

#include "cli_support.h"

using namespace attrib_test;

namespace {

// 4 methods x 3 batches = 12 explanation units, 2 metrics -> 24 score units, 1 analysis unit.
constexpr int kUnits = 12 + 24 + 1;

fs::path out_dir(const std::string& name) {
  const fs::path p = fs::path(ATTRIB_TEST_TMP) / "resume" / name;
  fs::remove_all(p);
  return p;
}

int64_t computed(const json& r) {
  const json& u = r["context"]["store"]["units"];
  return u["explanation_units"]["computed"].get<int64_t>() +
         u["score_units"]["computed"].get<int64_t>() +
         u["analysis_units"]["computed"].get<int64_t>();
}

bool killed(const Result& r) { return r.code == -1 || r.code == 137; }

TEST(Resume, KilledRunsResumeToTheUninterruptedResultsWithoutRecomputing) {
  const fs::path suite = write_suite("resume.json", units_suite());
  const fs::path once = out_dir("once"), killed_dir = out_dir("killed");
  Result r = attrib("run '" + suite.string() + "' --quiet --out '" + once.string() + "'", "once");
  ASSERT_EQ(r.code, 0) << r.err;
  const json expected = results_of(once);
  EXPECT_EQ(computed(expected), kUnits);

  const std::string run =
      "run '" + suite.string() + "' --quiet --out '" + killed_dir.string() + "'";
  // SIGKILL after the 4th unit, inside the 3rd unit's transaction (2 committed, 1 lost), after
  // the 20th: the three processes commit 4 + 2 + 20 units.
  int64_t committed = 0;
  for (const auto& [env, units] :
       std::vector<std::pair<std::string, int64_t>>{{"ATTRIB_FAULT_KILL_AFTER_UNITS=4", 4},
                                                    {"ATTRIB_FAULT_KILL_IN_UNIT=3", 2},
                                                    {"ATTRIB_FAULT_KILL_AFTER_UNITS=20", 20}}) {
    r = attrib(run, "killed", env);
    ASSERT_TRUE(killed(r)) << env << ": exit " << r.code << "\n" << r.err;
    committed += units;
  }
  r = attrib(run, "resumed");
  ASSERT_EQ(r.code, 0) << r.err;
  const json resumed = results_of(killed_dir);
  // Every unit computed exactly once over the four processes: nothing finished was redone.
  EXPECT_EQ(committed + computed(resumed), kUnits);
  EXPECT_FALSE(resumed["context"].value("incomplete", false));
  expect_same_results(expected, resumed);
  EXPECT_EQ(slurp(once / "leaderboard.csv"), slurp(killed_dir / "leaderboard.csv"));
}

TEST(Resume, SigintWritesIncompleteResultsAndSaysHowToResume) {
  const fs::path suite = write_suite("resume_int.json", units_suite());
  const fs::path out = out_dir("interrupted");
  const std::string run = "run '" + suite.string() + "' --quiet --out '" + out.string() + "'";
  Result r = attrib(run, "sigint", "ATTRIB_FAULT_SIGINT_AFTER_UNITS=5");
  EXPECT_EQ(r.code, 130) << r.err;
  EXPECT_NE(r.err.find("Resume with:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(out.string()), std::string::npos) << r.err;
  const json partial = results_of(out);
  EXPECT_TRUE(partial["context"]["incomplete"].get<bool>());
  EXPECT_EQ(computed(partial), 5);  // the unit in flight finished, then the run stopped
  r = attrib(run, "sigint_resumed");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(computed(results_of(out)), kUnits - 5);
}

TEST(Resume, NewMetricReusesEveryExplanationAndNewParamsRecomputeOneMethod) {
  json s = units_suite();
  const fs::path out = out_dir("extend");
  auto run = [&](const std::string& tag) {
    const Result r = attrib(
        "run '" + write_suite(tag + ".json", s).string() + "' --quiet --out '" + out.string() + "'",
        tag);
    EXPECT_EQ(r.code, 0) << r.err;
    return results_of(out)["context"]["store"]["units"];
  };
  run("extend1");
  s["metrics"].push_back({{"metric", "sparseness"}});
  json u = run("extend2");
  EXPECT_EQ(u["explanation_units"]["computed"], 0);
  EXPECT_EQ(u["explanation_units"]["reused"], 12);
  EXPECT_EQ(u["score_units"]["computed"], 12);  // only the new metric
  EXPECT_EQ(u["score_units"]["reused"], 24);
  s["methods"][2]["params"]["n_steps"] = 12;
  u = run("extend3");
  EXPECT_EQ(u["explanation_units"]["computed"], 3);  // integrated_gradients' 3 batches
  EXPECT_EQ(u["score_units"]["computed"], 9);        // its 3 metrics x 3 batches
  EXPECT_EQ(u["analysis_units"]["computed"], 1);     // agreement covers every method
  const Result again =
      attrib("run '" + (fs::path(ATTRIB_TEST_TMP) / "cli" / "extend3.json").string() +
                 "' --quiet --fresh --out '" + out.string() + "'",
             "extend_fresh");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(results_of(out)["context"]["store"]["units"]["explanation_units"]["reused"], 0);
}

// results.json's `scoring`: each (method, metric) with its model rows, the rows the shared
// unperturbed forward saved and the seconds inside model calls; a resumed run reads them back from
// the store with the units. leaderboard.md sums them per metric.
TEST(Resume, ScoringCostsAreKeptWithTheirUnits) {
  json s = units_suite();
  s["metrics"].push_back({{"metric", "sparseness"}});
  const fs::path suite = write_suite("scoring_costs.json", s);
  const fs::path out = out_dir("scoring");
  const std::string run = "run '" + suite.string() + "' --quiet --out '" + out.string() + "'";
  ASSERT_EQ(attrib(run, "scoring1").code, 0);
  const json first = results_of(out)["scoring"];
  ASSERT_EQ(first.size(), 4u * 3u);  // 4 methods x (deletion, insertion, sparseness)
  for (const json& e : first) {
    SCOPED_TRACE(e.dump());
    EXPECT_EQ(e["units_computed"], 3);
    EXPECT_EQ(e["units_reused"], 0);
    EXPECT_LE(e["model_seconds"].get<double>(), e["seconds"].get<double>());
    if (e["metric"] == "sparseness") {
      EXPECT_EQ(e["forward_rows"], 0);
      EXPECT_EQ(e["saved_rows"], 0);
    } else {
      // Every perturbed row forwarded (more than one per example); the 24 unperturbed rows
      // came from the host's logits.
      EXPECT_GT(e["forward_rows"].get<int64_t>(), 24);
      EXPECT_EQ(e["saved_rows"], 24);
      EXPECT_GT(e["model_seconds"].get<double>(), 0.0);
    }
  }
  EXPECT_NE(slurp(out / "leaderboard.md").find("## Scoring cost"), std::string::npos);

  ASSERT_EQ(attrib(run, "scoring2").code, 0);
  const json again = results_of(out)["scoring"];
  ASSERT_EQ(again.size(), first.size());
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i]["units_computed"], 0);
    EXPECT_EQ(again[i]["units_reused"], 3);
    for (const char* key : {"forward_rows", "saved_rows", "model_seconds", "seconds"})
      EXPECT_EQ(again[i][key], first[i][key]) << key;
  }
}

TEST(Resume, ExportReadBackThroughPrecomputedGivesTheSameScores) {
  const fs::path out = out_dir("export");
  json s = units_suite();
  s.erase("agreement");
  Result r = attrib(
      "run '" + write_suite("export.json", s).string() + "' --quiet --out '" + out.string() + "'",
      "export_run");
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path jsonl = out / "saliency.jsonl";
  r = attrib("export '" + out.string() + "' --method saliency --output '" + jsonl.string() + "'",
             "export");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("24 explanations of 1 method"), std::string::npos) << r.err;

  json again = s;
  again["methods"] =
      json::array({{{"name", "saliency"},
                    {"plugin", "precomputed"},
                    {"params", {{"file", jsonl.string()}, {"method", "saliency"}}}}});
  const fs::path out2 = out_dir("export_back");
  r = attrib("run '" + write_suite("export_back.json", again).string() + "' --quiet --out '" +
                 out2.string() + "'",
             "export_back");
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<std::string, json> original;
  const json first = results_of(out);
  for (const json& row : first["rows"])
    if (row["method"] == "saliency") original[row["metric"].get<std::string>()] = row["scores"];
  const json back = results_of(out2)["rows"];
  ASSERT_EQ(back.size(), 2u);
  for (const json& row : back)
    EXPECT_EQ(row["scores"], original.at(row["metric"].get<std::string>())) << row["metric"];

  if (std::system("'" ATTRIB_PYTHON "' -c 'import numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "numpy is not installed: the .npz export is not read back";
  r = attrib("export '" + out.string() + "' --format npz", "export_npz");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string check =
      "'" ATTRIB_PYTHON
      "' -c \"import numpy as np, json, sys\n"
      "z = np.load('" +
      (out / "attributions.npz").string() +
      "')\n"
      "s = z['planted/tiny/saliency/scores']; ids = z['planted/tiny/saliency/ids']\n"
      "n = z['planted/tiny/saliency/lengths']\n"
      "line = json.loads(open('" +
      jsonl.string() +
      "').readline())\n"
      "assert s.shape[0] == 24 and ids[0] == line['id'], (s.shape, ids[0])\n"
      "assert list(s[0][:n[0]]) == [np.float32(v) for v in line['scores']]\n"
      "assert np.isnan(s[0][n[0]:]).all()\"";
  EXPECT_EQ(std::system(check.c_str()), 0);
}

TEST(Resume, DamagedOrForeignStoreIsRefusedWithExit3) {
  const fs::path out = out_dir("damaged");
  fs::create_directories(out);
  std::ofstream(out / "store.sqlite") << "this is not a database\n" << std::string(4096, 'x');
  const fs::path suite = write_suite("damaged.json", units_suite());
  Result r = attrib("run '" + suite.string() + "' --quiet --out '" + out.string() + "'", "damaged");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find((out / "store.sqlite").string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not a database"), std::string::npos) << r.err;
  r = attrib("export '" + out.string() + "'", "damaged_export");
  EXPECT_EQ(r.code, 3) << r.err;
  r = attrib("export '" + out_dir("none").string() + "'", "no_store");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("no run store"), std::string::npos) << r.err;
}

}  // namespace
