// End-to-end tests of the attrib command line: a small suite trains the built-in transformer,
// explains with every foundation method, scores deletion/insertion and writes the leaderboard.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "cli_support.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using namespace attrib_test;

TEST(Cli, HelpAndExitCodes) {
  EXPECT_EQ(attrib("--help", "help").code, 0);
  EXPECT_EQ(attrib("", "nothing").code, 2);
  for (const char* c : {"run", "explain", "plugins", "metrics"}) {
    Result r = attrib(std::string(c) + " --help", std::string("help_") + c);
    EXPECT_EQ(r.code, 0) << c;
    EXPECT_NE(r.out.find("usage: attrib"), std::string::npos) << c;
  }
  Result r = attrib("frobnicate", "unknown");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
  r = attrib("run --bogus", "bogus");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown option --bogus"), std::string::npos);
}

TEST(Cli, PluginsJsonListsAbiAndCapabilities) {
  Result r = attrib("plugins --json", "plugins");
  ASSERT_EQ(r.code, 0) << r.err;
  json doc = json::parse(r.out);
  std::set<std::string> names;
  for (const auto& p : doc["plugins"]) {
    names.insert(p["name"].get<std::string>());
    EXPECT_EQ(p["abi_version"], doc["abi_version"]);
    EXPECT_TRUE(p["capabilities"].is_array());
    EXPECT_TRUE(p["metadata"].contains("params"));
  }
  for (const char* n : {"random", "saliency", "input_x_gradient", "integrated_gradients",
                        "occlusion", "torchscript", "text_transformer"})
    EXPECT_TRUE(names.count(n)) << n;
}

TEST(Cli, InvalidSuitesNameThePath) {
  json s = small_suite();
  s["methods"][3]["params"]["n_steps"] = "fifty";
  Result r = attrib("run '" + write_suite("bad1.json", s).string() + "' --quiet", "bad1");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("methods[3].params.n_steps: expected integer >= 1, got \"fifty\""),
            std::string::npos)
      << r.err;

  s = small_suite();
  s["metrics"][0]["colour"] = "red";
  r = attrib("run '" + write_suite("bad2.json", s).string() + "' --quiet", "bad2");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("metrics[0].colour: unknown parameter"), std::string::npos) << r.err;

  const fs::path broken = fs::path(ATTRIB_TEST_TMP) / "cli" / "broken.json";
  std::ofstream(broken) << "{\n  \"schema_version\": 1,\n  \"name\": oops\n}\n";
  r = attrib("run '" + broken.string() + "' --quiet", "bad3");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("broken.json:3:"), std::string::npos) << r.err;

  r = attrib("run /nonexistent/suite.json --quiet", "bad4");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("/nonexistent/suite.json: cannot open"), std::string::npos) << r.err;
}

TEST(Cli, RunWritesLeaderboardAndIsReproducible) {
  const fs::path suite = write_suite("small.json", small_suite());
  const fs::path out1 = fs::path(ATTRIB_TEST_TMP) / "cli" / "run1";
  const fs::path out2 = fs::path(ATTRIB_TEST_TMP) / "cli" / "run2";
  fs::remove_all(out1);
  fs::remove_all(out2);
  Result r1 = attrib("run '" + suite.string() + "' --out '" + out1.string() + "'", "run1");
  ASSERT_EQ(r1.code, 0) << r1.err;
  EXPECT_NE(r1.out.find("leaderboard.md"), std::string::npos);
  json doc = json::parse(slurp(out1 / "results.json"));
  EXPECT_EQ(doc["json_schema_version"], 1);
  for (const char* k : {"git_commit", "host", "threads", "device", "seed", "attrib_version"})
    EXPECT_TRUE(doc["context"].contains(k)) << k;
  EXPECT_EQ(doc["rows"].size(), 10u);  // 5 methods x 2 metrics
  EXPECT_GE(doc["models"][0]["accuracy"]["value"].get<double>(), 0.9);
  for (const auto& row : doc["rows"]) {
    EXPECT_FALSE(row.contains("error") && !row["error"].is_null() && row["error"] != "")
        << row.dump();
    // Every row records the choices behind it.
    EXPECT_TRUE(row["metric_info"]["choices"].contains("substrate"));
    EXPECT_TRUE(row["metric_info"]["choices"].contains("auc"));
    EXPECT_TRUE(row["method_info"].contains("params"));
  }
  const std::string md = slurp(out1 / "leaderboard.md");
  EXPECT_NE(md.find("integrated_gradients"), std::string::npos);
  EXPECT_FALSE(slurp(out1 / "leaderboard.csv").empty());

  // Same seed => identical numbers (second run also exercises the model cache).
  Result r2 = attrib("run '" + suite.string() + "' --quiet --out '" + out2.string() + "'", "run2");
  ASSERT_EQ(r2.code, 0) << r2.err;
  json doc2 = json::parse(slurp(out2 / "results.json"));
  EXPECT_EQ(doc["rows"], doc2["rows"]);
  EXPECT_EQ(doc["leaderboards"], doc2["leaderboards"]);
  EXPECT_TRUE(doc2["models"][0]["train"]["cached"].get<bool>());

  // explain on the cached checkpoint: IG sums to f(x) - f(baseline) up to the reported delta.
  const std::string ckpt = doc2["models"][0]["checkpoint"];
  Result e = attrib("explain --model 'torchscript:" + ckpt +
                        "' --method integrated_gradients --param n_steps=64 --text 'the the the' "
                        "--target 1 --json",
                    "explain");
  ASSERT_EQ(e.code, 0) << e.err;
  json ex = json::parse(e.out);
  ASSERT_TRUE(ex["extras"].contains("convergence_delta"));
  EXPECT_EQ(ex["attribution_shape"].size(), 3u);  // [1, T, d] in embedding space
  EXPECT_EQ(ex["token_scores"][0].size(), 3u);
}

}  // namespace

namespace {

bool python_has_torch() {
  return std::system("'" ATTRIB_PYTHON "' -c 'import torch' >/dev/null 2>&1") == 0;
}

TEST(Cli, ExplainPythonForwardOnlyModelIsComplete) {
  if (!python_has_torch()) GTEST_SKIP() << ATTRIB_PYTHON << " cannot import torch (python3-torch)";
  const fs::path dir = fs::path(ATTRIB_TEST_TMP) / "cli";
  fs::create_directories(dir);
  const fs::path pt = dir / "dense_mlp.pt";
  const std::string make = "'" ATTRIB_PYTHON "' '" ATTRIB_SOURCE_DIR
                           "/tests/python/make_dense_mlp.py' '" +
                           pt.string() + "'";
  ASSERT_EQ(std::system(make.c_str()), 0);
  const std::string model = "--model 'torchscript:" + pt.string() + "'";
  Result r = attrib("explain " + model +
                        " --method integrated_gradients --input '[0, 1, 2, 3]' --target 1 --json",
                    "explain_ig");
  ASSERT_EQ(r.code, 0) << r.err;
  json ig = json::parse(r.out);
  Result z = attrib("explain " + model + " --method saliency --input '[0, 0, 0, 0]' --target 1",
                    "explain_zero");
  ASSERT_EQ(z.code, 0) << z.err;
  const double fx = json::parse(r.out)["logits"][0][1];
  const double f0 = json::parse(z.out)["logits"][0][1];
  const double sum = ig["sum"][0];
  const double delta = ig["extras"]["convergence_delta"][0];
  // The reported delta is exactly sum - (f(x) - f(baseline)), and it is small for a smooth MLP.
  EXPECT_NEAR(sum - (fx - f0), delta, 1e-5);
  EXPECT_LT(std::fabs(delta), 1e-3 * std::max(1.0, std::fabs(fx - f0)));
  EXPECT_EQ(ig["attributions"][0].size(), 4u);

  // A method needing a capability the model lacks is refused before any computation.
  Result bad = attrib("explain " + model + " --method integrated_gradients --text 'a b'", "bad");
  EXPECT_EQ(bad.code, 3);
  EXPECT_NE(bad.err.find("takes dense inputs"), std::string::npos) << bad.err;
}

// The optional analyses on a trained model, their report, then `attrib compare` of the run with
// itself and `attrib bench` on the same suite.
TEST(Cli, AnalysesCompareAndBench) {
  json suite = small_suite();
  suite["methods"] = json::array({{{"plugin", "random"}},
                                  {{"plugin", "saliency"}},
                                  {{"plugin", "input_x_gradient"}},
                                  {{"plugin", "input_independent"}}});
  suite["metrics"] = json::array({{{"metric", "deletion"}}});
  suite["randomisation"] = {{"max_examples", 16},
                            {"tests", {"cascading", "independent", "random_logit", "data"}}};
  suite["agreement"] = {{"measures", {"spearman", "feature_agreement"}}};
  suite["throughput"] = {
      {"examples", 8}, {"batch_sizes", {4, 8}}, {"repetitions", 3}, {"limit_min_seconds", 0.01}};
  const fs::path file = write_suite("analyses.json", suite);
  const fs::path out = fs::path(ATTRIB_TEST_TMP) / "cli" / "analyses-out";
  const Result r =
      attrib("run '" + file.string() + "' --quiet --out '" + out.string() + "'", "analyses");
  ASSERT_EQ(r.code, 0) << r.err;
  const json doc = json::parse(slurp(out / "results.json"));

  // Randomisation: the input-independent control fails; input x gradient passes the cascade.
  std::map<std::string, json> verdict;
  for (const auto& e : doc["randomisation"])
    if (e.contains("passes"))
      verdict[e["method"].get<std::string>() + "/" + e["test"].get<std::string>()] = e["passes"];
  EXPECT_EQ(verdict["input_independent/cascading"], false);
  EXPECT_EQ(verdict["input_independent/random_logit"], false);
  EXPECT_EQ(verdict["input_x_gradient/cascading"], true);
  EXPECT_EQ(verdict["input_independent/data"], false);
  // The permuted-label model's record says how well it memorised.
  bool saw_data = false;
  for (const auto& e : doc["randomisation"])
    if (e["test"] == "data" && e["method"] == "saliency") {
      saw_data = true;
      EXPECT_TRUE(e["permuted_label_model"].contains("train_accuracy_on_permuted_labels"));
      EXPECT_EQ(e["permuted_label_model"]["early_stopping"], "off (patience = epochs)");
    }
  EXPECT_TRUE(saw_data);
  // Agreement: one matrix set, symmetric with ones on the diagonal.
  ASSERT_EQ(doc["agreement"].size(), 1u);
  const json& sp = doc["agreement"][0]["measures"][0];
  EXPECT_EQ(sp["measure"], "spearman");
  EXPECT_EQ(sp["mean"].size(), 4u);
  EXPECT_NEAR(sp["mean"][1][1].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(sp["mean"][1][2], sp["mean"][2][1]);
  // Throughput: (4 methods + reference) x 2 batch sizes, 3 timed repetitions each.
  // Each entry's fraction of the model's limit is what the limit recorded in the reference entry
  // allows for the rows the method reported (batch_cap 64: rungs of 8 to 64 rows).
  ASSERT_EQ(doc["throughput"].size(), 10u);
  json limit;
  for (const auto& t : doc["throughput"])
    if (t["kind"] == "reference") limit = t["limit"];
  ASSERT_TRUE(limit.is_object());
  EXPECT_EQ(limit["forward"]["ladder"].size(), 4u);
  EXPECT_EQ(limit["forward_backward"]["ladder"].back()["rows"], 64);
  for (const auto& t : doc["throughput"]) {
    EXPECT_EQ(t["seconds"].size(), 3u) << t.dump();
    const double eps = t["explanations_per_second"]["median"];
    EXPECT_GT(eps, 0.0);
    EXPECT_EQ(t["limit"].is_object(), t["kind"] == "reference");
    const double f = t["rows_per_explanation"]["forward"],
                 b = t["rows_per_explanation"]["backward"];
    if (t["method"] == "random" || t["method"] == "input_independent") {  // call no model
      EXPECT_EQ(f, 0.0);
      EXPECT_TRUE(t["fraction_of_limit"].is_null());
      continue;
    }
    EXPECT_EQ(f, 1.0) << t["method"];  // one gradient row per explanation
    EXPECT_EQ(b, 1.0) << t["method"];
    const double allowed = 1.0 / ((f - b) / limit["forward"]["rows_per_second"].get<double>() +
                                  b / limit["forward_backward"]["rows_per_second"].get<double>());
    EXPECT_NEAR(t["limit_explanations_per_second"].get<double>(), allowed, 1e-9 * allowed);
    EXPECT_NEAR(t["fraction_of_limit"].get<double>(), eps / allowed, 1e-9 * eps / allowed);
  }
  const std::string md = slurp(out / "leaderboard.md");
  EXPECT_NE(md.find("## Randomisation sanity checks"), std::string::npos);
  EXPECT_NE(md.find("| planted | tiny | input_independent | cascading | spearman_abs | 1 | [1, 1] "
                    "| **FAIL** |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("## Throughput"), std::string::npos);
  EXPECT_NE(md.find("Model limit for planted / tiny on cpu: forward "), std::string::npos) << md;

  // A run compared with itself has no regression.
  const std::string res = (out / "results.json").string();
  const Result c = attrib("compare '" + res + "' '" + res + "'", "analyses-compare");
  EXPECT_EQ(c.code, 0) << c.out << c.err;

  // Bench: Google Benchmark JSON with the attrib context and one benchmark per workload.
  const fs::path bench = fs::path(ATTRIB_TEST_TMP) / "cli" / "bench.json";
  const Result b = attrib("bench '" + file.string() + "' --quiet --benchmark_repetitions=2" +
                              " --benchmark_min_time=0.01 --benchmark_out='" + bench.string() +
                              "' --benchmark_out_format=json",
                          "bench");
  ASSERT_EQ(b.code, 0) << b.err;
  const json bj = json::parse(slurp(bench));
  EXPECT_EQ(bj["context"]["attrib_suite"], "small");
  EXPECT_TRUE(bj["context"].contains("attrib_git_commit"));
  // The limit measured before the benchmarks is in the context; saliency's fraction_of_limit is
  // its explanations/s times the seconds the limit needs for one gradient row.
  const json limits = json::parse(bj["context"]["attrib_model_limits"].get<std::string>());
  const double fb_rps = limits["planted/tiny"]["forward_backward"]["rows_per_second"];
  bool saw_reference = false, saw_saliency = false;
  for (const auto& x : bj["benchmarks"]) {
    const std::string name = x["name"];
    saw_reference |= name.rfind("forward_backward/planted/tiny/model/batch:4/device:cpu", 0) == 0;
    if (name.rfind("explain/planted/tiny/saliency/batch:8/device:cpu", 0) != 0) continue;
    saw_saliency = true;
    if (x["run_type"] != "iteration") continue;
    const double eps = x["explanations_per_second"];
    EXPECT_NEAR(x["fraction_of_limit"].get<double>(), eps / fb_rps, 1e-9 * eps / fb_rps);
  }
  EXPECT_TRUE(saw_reference);
  EXPECT_TRUE(saw_saliency);
  // Unknown benchmark flags are a usage error.
  EXPECT_EQ(
      attrib("bench '" + file.string() + "' --quiet --benchmark_nonsense=1", "bench-bad").code, 2);
}

}  // namespace

namespace {

// suites/horses on the Weizmann horses: the controls score the chance level |s| / n (the mean
// mask share, which is what attribution localisation gives a constant map) on the pointing game
// and relevance rank accuracy; Quantus's tie rule hands the constant map 1.0, and ranking ties by
// index turns rank accuracy into a raster scan.
TEST(Cli, HorsesSuiteScoresControlsAtChance) {
  fs::path data = ATTRIB_SHARED_DATA_DEFAULT;
  if (const char* env = std::getenv("ATTRIB_SHARED_DATA")) data = env;
  data /= "image/weizmann_horse";
  if (!fs::exists(data / "gray"))
    GTEST_SKIP() << "Weizmann horses not found at " << data << " (set ATTRIB_SHARED_DATA)";
  json suite = json::parse(slurp(fs::path(ATTRIB_SOURCE_DIR) / "suites/horses/suite.json"));
  suite["datasets"][0]["spec"] = "images:" + data.string();
  suite["statistics"]["bootstrap_resamples"] = 200;
  const fs::path out = fs::path(ATTRIB_TEST_TMP) / "cli" / "horses_out";
  fs::remove_all(out);
  const Result r = attrib(
      "run '" + write_suite("horses.json", suite).string() + "' --out '" + out.string() + "'",
      "horses");
  ASSERT_EQ(r.code, 0) << r.err;
  const json doc = json::parse(slurp(out / "results.json"));
  std::map<std::string, std::map<std::string, double>> mean;
  for (const json& m : doc["leaderboards"]["boards"][0]["metrics"])
    for (const json& e : m["entries"]) mean[m["metric"]][e["method"]] = e["mean"].get<double>();
  const double chance = mean["attribution_localisation"]["constant"];  // mean |s| / n
  EXPECT_GT(chance, 0.15);
  EXPECT_LT(chance, 0.4);
  EXPECT_NEAR(mean["pointing_game"]["constant"], chance, 1e-12);
  EXPECT_EQ(mean["pointing_game_quantus"]["constant"], 1.0);
  EXPECT_NEAR(mean["relevance_rank_accuracy"]["constant"], chance, 0.02);
  EXPECT_NEAR(mean["relevance_rank_accuracy"]["random"], chance, 0.02);
  EXPECT_NEAR(mean["pointing_game"]["random"], chance, 0.1);  // one hit per image: noisier
  EXPECT_LT(mean["relevance_rank_accuracy_by_index"]["constant"], chance - 0.05);
}

}  // namespace

namespace {

// A method that fails in any way (NaN or Inf maps, an integer or undefined tensor, a map per
// example missing, a non-standard exception from explain or from its constructor) is an error
// row naming the method; the run scores the others, writes the leaderboard and exits 5. The
// suite is the two-method, two-metric shape that once crashed writing the leaderboard.
TEST(Cli, FaultyMethodsBecomeErrorRowsAndTheRunGoesOn) {
  const fs::path plugins = fs::path(ATTRIB_TEST_TMP) / "cli" / "faulty_plugins";
  fs::remove_all(plugins);
  fs::create_directories(plugins);
  fs::copy_file(fs::path(ATTRIB_FIXTURE_PLUGIN_DIR) / "attrib_fixture_faulty.so",
                plugins / "attrib_fixture_faulty.so");
  json suite = small_suite();
  suite["statistics"]["bootstrap_resamples"] = 100;
  suite["datasets"][0]["max_examples"] = 16;
  suite["methods"] = {{{"plugin", "random"}}, {{"plugin", "saliency"}}};
  const std::vector<std::pair<std::string, std::string>> faults = {
      {"nan", "non-finite values"},
      {"inf", "non-finite values"},
      {"int", "expected a floating-point tensor"},
      {"undefined", "undefined tensor"},
      {"batch", "maps (one per example)"},
      {"throw_int", "unknown exception"},
      {"throw", "failed on purpose"},
      {"throw_on_create", "unknown exception"},
      // A third-party plugin runs in a worker process by default (--isolate auto).
      {"segfault", "crashed with SIGSEGV"},
      {"abort", "crashed with SIGABRT"},
      {"exit", "ended its worker process with exit(0)"},
      {"loop", "did not finish within 3 s (--method-timeout)"}};
  for (const auto& [fault, message] : faults)
    suite["methods"].push_back({{"plugin", "fixture_faulty"},
                                {"name", "faulty_" + fault},
                                {"params", {{"fault", fault}}}});
  // An absurd setting is refused from the plugin's cost formula before any work.
  suite["methods"].push_back({{"plugin", "integrated_gradients"},
                              {"name", "ig_absurd"},
                              {"params", {{"n_steps", 1000000000}}}});
  suite["metrics"] = {{{"metric", "deletion"}}, {{"metric", "token_f1"}}};
  const fs::path out = fs::path(ATTRIB_TEST_TMP) / "cli" / "faulty_out";
  fs::remove_all(out);
  const Result r =
      attrib("run '" + write_suite("faulty.json", suite).string() + "' --plugin-dir '" +
                 plugins.string() + "' --out '" + out.string() + "' --method-timeout 3",
             "faulty");
  EXPECT_EQ(r.code, 5) << r.err;
  ASSERT_TRUE(fs::exists(out / "leaderboard.md")) << r.err;
  const json doc = json::parse(slurp(out / "results.json"));
  std::map<std::string, std::string> errors;
  for (const json& row : doc["rows"])
    if (row["error"].is_string() && row["metric"] == "deletion")
      errors[row["method"]] = row["error"];
  for (const auto& [fault, message] : faults)
    EXPECT_NE(errors["faulty_" + fault].find(message), std::string::npos)
        << fault << ": " << errors["faulty_" + fault];
  EXPECT_NE(errors["ig_absurd"].find("n_steps = 1000000000"), std::string::npos)
      << errors["ig_absurd"];
  EXPECT_NE(errors["ig_absurd"].find("--force"), std::string::npos) << errors["ig_absurd"];

  // --force lifts the cost check (a method whose formula claims 2e9 rows but runs at once).
  suite["methods"] = {{{"plugin", "random"}},
                      {{"plugin", "fixture_faulty"},
                       {"name", "big"},
                       {"params", {{"fault", "none"}, {"claimed_rows", 2e9}}}}};
  const std::string big = "run '" + write_suite("big.json", suite).string() + "' --plugin-dir '" +
                          plugins.string() + "' --out '" + out.string() + "'";
  EXPECT_EQ(attrib(big, "big").code, 5);
  EXPECT_EQ(attrib(big + " --force", "big_forced").code, 0);
  // The healthy methods are ranked on both metrics.
  for (const json& m : doc["leaderboards"]["boards"][0]["metrics"]) {
    int ranked = 0;
    for (const json& e : m["entries"]) ranked += e["rank"].is_number();
    EXPECT_EQ(ranked, 2) << m["metric"];
  }
}

}  // namespace

namespace {

// Issue 17 ("Hardening"): hostile or unlucky inputs to the command line end in a clear error with
// the documented exit code, never in a crash, a lost run or a file outside the output folder.

fs::path cli_tmp(const std::string& name) { return fs::path(ATTRIB_TEST_TMP) / "cli" / name; }

// One method, one metric, a model trained for one epoch (cached after the first run).
json tiny_suite() {
  json s = small_suite();
  s["name"] = "tiny";
  s["datasets"][0]["params"]["n_train"] = 200;
  s["datasets"][0]["max_examples"] = 8;
  s["models"][0]["train"] = {{"epochs", 1}};
  s["methods"] = json::array({{{"plugin", "random"}}});
  s["metrics"] = json::array({{{"metric", "deletion"}}});
  return s;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(CliHardening, DeepOrOutOfRangeJsonIsInvalidInput) {
  const fs::path deep = cli_tmp("deep.json");
  std::ofstream(deep) << std::string(1000000, '[') << std::string(1000000, ']');
  const std::string message = "deep.json:1:513: nesting deeper than 512 levels";
  Result r = attrib("run '" + deep.string() + "' --quiet", "deep-run");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(has(r.err, message)) << r.err;
  r = attrib("compare '" + deep.string() + "' '" + deep.string() + "'", "deep-compare");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(has(r.err, message)) << r.err;
  // explain reads --input before it loads the model.
  const std::string explain = "explain --model torchscript:/nonexistent.pt --method random ";
  r = attrib(explain + "--input @'" + deep.string() + "'", "deep-explain-file");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(has(r.err, message)) << r.err;
  r = attrib(explain + "--input '" + std::string(600, '[') + std::string(600, ']') + "'",
             "deep-explain");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(has(r.err, "--input:1:513: nesting deeper than 512 levels")) << r.err;
  r = attrib(explain + "--input '[1e400]'", "huge-explain");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(has(r.err, "--input:1:2: expected a finite number, got 1e400")) << r.err;
  r = attrib(explain + "--param x=1e400 --input '[1]'", "huge-param");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(has(r.err, "--param x: \"1e400\": column 1: expected a finite number, got 1e400"))
      << r.err;

  const fs::path huge = cli_tmp("huge.json");
  std::ofstream(huge) << "{\n  \"schema_version\": 1,\n  \"seed\": 1e400\n}\n";
  r = attrib("run '" + huge.string() + "' --quiet", "huge-run");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(has(r.err, "huge.json:3:11: expected a finite number, got 1e400")) << r.err;
  EXPECT_FALSE(has(r.err, "internal error")) << r.err;
}

TEST(CliHardening, SuiteNameCannotLeaveTheResultsFolder) {
  json s = tiny_suite();
  s["name"] = "../../../x";
  const Result r = attrib("run '" + write_suite("escape.json", s).string() + "' --quiet", "escape");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(has(r.err,
                  "name: expected 1 to 100 letters, digits, '.', '_' or '-' (not \".\" or "
                  "\"..\"), got \"../../../x\""))
      << r.err;
}

TEST(CliHardening, UnwritableOutFailsBeforeAnyWork) {
  const fs::path file = cli_tmp("not-a-folder");
  std::ofstream(file) << "x";
  const std::string out = (file / "out").string();
  // Not --quiet: the run's first progress line must not appear.
  const Result r =
      attrib("run '" + write_suite("tiny.json", tiny_suite()).string() + "' --out '" + out + "'",
             "unwritable");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(has(r.err, "--out " + out + ": cannot create the folder")) << r.err;
  EXPECT_FALSE(has(r.err, "attrib run: suite")) << r.err;
}

TEST(CliHardening, SecondRunOnTheSameOutIsRefused) {
  const fs::path out = cli_tmp("locked-out");
  fs::remove_all(out);
  fs::create_directories(out);
  // This process holds the lock, as a running attrib would, with its pid in the file.
  const int fd = ::open((out / ".attrib.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  const std::string pid = std::to_string(::getpid());
  ASSERT_EQ(::write(fd, pid.data(), pid.size()), static_cast<ssize_t>(pid.size()));
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const std::string run = "run '" + write_suite("tiny.json", tiny_suite()).string() +
                          "' --quiet --out '" + out.string() + "'";
  Result r = attrib(run, "locked");
  ::close(fd);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(has(r.err, out.string() + " is in use by another attrib run (pid " + pid + ")"))
      << r.err;
  EXPECT_FALSE(fs::exists(out / "results.json"));
  // Released: the next run goes through.
  r = attrib(run, "unlocked");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out / "results.json"));
}

TEST(CliHardening, PluginLoadErrorsExit4AndThreadsAreClamped) {
  const fs::path dir = cli_tmp("broken-plugins");
  fs::create_directories(dir);
  std::ofstream(dir / "libbroken.so") << "not a shared library";
  const fs::path out = cli_tmp("broken-out");
  fs::remove_all(out);
  const Result r = attrib("run '" + write_suite("tiny.json", tiny_suite()).string() +
                              "' --quiet --threads 100000 --plugin-dir '" + dir.string() +
                              "' --out '" + out.string() + "'",
                          "broken");
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_TRUE(has(r.err, "plugin load error: ")) << r.err;
  EXPECT_TRUE(has(r.err, "libbroken.so")) << r.err;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_TRUE(has(r.err, "warning: 100000 threads requested; using the " + std::to_string(cores) +
                             " hardware threads"))
      << r.err;
  // The results are written as usual, with the load errors and the threads actually used.
  const json doc = json::parse(slurp(out / "results.json"));
  EXPECT_EQ(doc["context"]["plugin_load_errors"].size(), 1u);
  EXPECT_EQ(doc["context"]["threads"]["intra_op"], cores);
  EXPECT_EQ(attrib("plugins --plugin-dir '" + dir.string() + "'", "broken-list").code, 4);
}

// A tmpfs mounted for the test's lifetime (needs root); unmounted however the test ends.
struct TmpfsMount {
  fs::path dir;
  bool mounted = false;
  std::string error;
  TmpfsMount(fs::path d, const char* options) : dir(std::move(d)) {
    fs::create_directories(dir);
    mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options) == 0;
    if (!mounted) error = std::strerror(errno);
  }
  ~TmpfsMount() {
    if (mounted) ::umount2(dir.c_str(), MNT_DETACH);
  }
};

TEST(CliHardening, FullDiskLeavesNoPartialResults) {
  TmpfsMount disk(cli_tmp("small-disk"), "size=64k");
  if (!disk.mounted)
    GTEST_SKIP() << "cannot mount a tmpfs at " << disk.dir << " (" << disk.error
                 << "); this test needs root";
  // Fill it, then free two pages: one for the probe (removed again), one for the lock file, none
  // left for results.json.
  const fs::path filler = disk.dir / "filler";
  {
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    const std::string page(4096, 'x');
    while (::write(fd, page.data(), page.size()) > 0) {
    }
    const off_t size = ::lseek(fd, 0, SEEK_END);
    ASSERT_GE(size, 2 * 4096);
    ASSERT_EQ(::ftruncate(fd, size - 2 * 4096), 0);
    ::close(fd);
  }
  const fs::path out = disk.dir / "out";
  const std::string suite = write_suite("tiny.json", tiny_suite()).string();
  auto only_the_lock_is_left = [&] {
    for (const auto& e : fs::directory_iterator(out)) {
      const std::string name = e.path().filename().string();
      EXPECT_TRUE(name == ".attrib.lock") << "left behind: " << name;
    }
  };
  // The run store is the first file written: a disk too full for it stops the run before any
  // work, and the half-created store is removed.
  Result r = attrib("run '" + suite + "' --quiet --out '" + out.string() + "'", "full-disk-store");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(has(r.err, (out / "store.sqlite").string())) << r.err;
  EXPECT_TRUE(has(r.err, "disk is full")) << r.err;
  only_the_lock_is_left();
  r = attrib("run '" + suite + "' --quiet --no-store --out '" + out.string() + "'", "full-disk");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(
      has(r.err, (out / "results.json").string() + ": write failed (No space left on device)"))
      << r.err;
  only_the_lock_is_left();
}

}  // namespace
