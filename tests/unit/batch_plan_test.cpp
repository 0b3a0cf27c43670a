// Rows per model call (harness/src/batch_plan.h): "cap" keeps batch_cap; "measured" takes the
// model's fastest rows per call from a ladder measured once per (model, device, threads, cap,
// machine), records the plan and its measurement, caches it, keys the run store with it, and
// moves every score by no more than the last bits a call's size can change.
#include "batch_plan.h"

#include <gtest/gtest.h>

#include <cmath>

#include "cli_support.h"
#include "common/model_limit.h"

using namespace attrib_test;

namespace {

json units(const fs::path& out) { return results_of(out)["context"]["store"]["units"]; }

double max_score_difference(const json& a, const json& b) {
  double worst = 0.0;
  EXPECT_EQ(a["rows"].size(), b["rows"].size());
  for (size_t r = 0; r < std::min(a["rows"].size(), b["rows"].size()); ++r) {
    const json &x = a["rows"][r]["scores"], &y = b["rows"][r]["scores"];
    EXPECT_EQ(x.size(), y.size());
    for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
      EXPECT_EQ(x[i].is_number(), y[i].is_number()) << r << "/" << i;
      if (x[i].is_number() && y[i].is_number())
        worst = std::max(worst, std::abs(x[i].get<double>() - y[i].get<double>()));
    }
  }
  return worst;
}

}  // namespace

TEST(BatchPlan, MeasuredPlanIsRecordedCachedAndKeysTheStore) {
  const fs::path out = fs::path(ATTRIB_TEST_TMP) / "batch_plan" / per_process("run");
  fs::remove_all(out);
  const fs::path plans = fs::path(ATTRIB_TEST_TMP) / "cli" / "cache" / "batch_plans";
  fs::remove_all(plans);
  const std::string suite =
      write_suite(per_process("batch_plan") + ".json", units_suite()).string();
  auto run = [&](const std::string& rows, const std::string& tag) {
    const Result r = attrib_test::attrib(
        "run '" + suite + "' --quiet --batch-rows " + rows + " --out '" + out.string() + "'",
        per_process(tag));
    EXPECT_EQ(r.code, 0) << r.err;
    return results_of(out);
  };

  const json cap = run("cap", "plan-cap");
  EXPECT_EQ(cap["models"][0]["batch_plan"],
            (json{{"mode", "cap"}, {"forward_rows", 64}, {"gradient_rows", 64}}));
  EXPECT_EQ(cap["context"]["batch_rows"], "cap");

  // Measured: a rung of the ladder up to batch_cap 64 for each mode, with the measurement.
  const json measured = run("measured", "plan-measured");
  const json& plan = measured["models"][0]["batch_plan"];
  EXPECT_EQ(plan["mode"], "measured");
  EXPECT_EQ(plan["cached"], false);
  const std::vector<int64_t> rungs = attrib::limit_ladder(64);
  for (const char* mode : {"forward", "forward_backward"}) {
    const json& m = plan["limit"][mode];
    EXPECT_EQ(m["ladder"].size(), rungs.size()) << mode;
    EXPECT_NE(std::find(rungs.begin(), rungs.end(), m["best_rows"].get<int64_t>()), rungs.end());
  }
  EXPECT_EQ(plan["forward_rows"], plan["limit"]["forward"]["best_rows"]);
  EXPECT_EQ(plan["gradient_rows"], plan["limit"]["forward_backward"]["best_rows"]);
  EXPECT_EQ(measured["context"]["batch_rows"], "measured");
  EXPECT_FALSE(measured["context"]["machine"]["cpu_model"].get<std::string>().empty());
  // The plan keys every unit: nothing computed under batch_cap is reused for it.
  EXPECT_EQ(units(out)["explanation_units"]["reused"], 0);
  EXPECT_EQ(units(out)["score_units"]["reused"], 0);
  // A call's size moves a score by its last bits at most.
  EXPECT_LE(max_score_difference(cap, measured), 1e-5);

  // Again: the cached plan, the same rows, every unit reused.
  const json again = run("measured", "plan-again");
  EXPECT_EQ(again["models"][0]["batch_plan"]["cached"], true);
  EXPECT_EQ(again["models"][0]["batch_plan"]["forward_rows"], plan["forward_rows"]);
  EXPECT_EQ(again["models"][0]["batch_plan"]["gradient_rows"], plan["gradient_rows"]);
  EXPECT_EQ(units(out)["explanation_units"]["computed"], 0);
  EXPECT_EQ(again["rows"], measured["rows"]);

  // A damaged cache file is measured again and replaced, never trusted.
  const fs::path file = plan["cache_file"].get<std::string>();
  ASSERT_TRUE(fs::exists(file));
  std::ofstream(file) << "{\"key\": ";
  const json remeasured = run("measured", "plan-damaged");
  EXPECT_EQ(remeasured["models"][0]["batch_plan"]["cached"], false);
  EXPECT_TRUE(json::parse(slurp(file), nullptr, false).is_object());
  fs::remove_all(out);
}

TEST(BatchPlan, BadSettingsAreRefusedNamingThem) {
  json s = small_suite();
  s["batch_rows"] = "fastest";
  const Result bad =
      attrib_test::attrib("run '" + write_suite(per_process("plan-bad") + ".json", s).string() +
                              "' --quiet --no-store --out '" +
                              (fs::path(ATTRIB_TEST_TMP) / "batch_plan" / "bad").string() + "'",
                          per_process("plan-bad"));
  EXPECT_EQ(bad.code, 3);
  EXPECT_NE(bad.err.find("batch_rows"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("fastest"), std::string::npos) << bad.err;
  const Result flag =
      attrib_test::attrib("run --batch-rows fastest --quiet", per_process("plan-flag"));
  EXPECT_EQ(flag.code, 2);
  EXPECT_NE(flag.err.find("--batch-rows: expected cap or measured, got \"fastest\""),
            std::string::npos)
      << flag.err;
}
