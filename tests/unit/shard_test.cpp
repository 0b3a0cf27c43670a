// Sharded runs end to end (the attrib binary on a small suite): three shards merged, and mpirun
// with 2 and 4 ranks, give results and leaderboards bit-identical to one run; missing, duplicate
// or mismatched shards are refused; killed ranks resume without recomputing finished units.
#include "shard.h"

#include <gtest/gtest.h>

#include "attrib/error.h"
#include "cli_support.h"

using namespace attrib_test;

namespace {

fs::path out_dir(const std::string& name) {
  const fs::path p = fs::path(ATTRIB_TEST_TMP) / "shard" / name;
  fs::remove_all(p);
  return p;
}

/// The single-process run every sharded run must equal (computed once per test binary).
const json& reference() {
  static const json r = [] {
    const fs::path out = out_dir(per_process("once"));
    const Result run =
        attrib_test::attrib("run '" + write_suite("shard.json", units_suite()).string() +
                                "' --quiet --out '" + out.string() + "'",
                            per_process("shard_once"));
    EXPECT_EQ(run.code, 0) << run.err;
    json results = results_of(out);
    fs::remove_all(out);
    return results;
  }();
  return r;
}

std::string suite_arg() { return "'" + write_suite("shard.json", units_suite()).string() + "'"; }

bool have_mpirun() { return std::system("command -v mpirun >/dev/null 2>&1") == 0; }

// Root may run mpirun only when it says so (CI machines run the tests as root).
const std::string kMpiEnv = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1";

Result mpirun(int ranks, const fs::path& out, const std::string& tag, const std::string& env = "") {
  return attrib_with_launcher("mpirun --oversubscribe -n " + std::to_string(ranks),
                              "run " + suite_arg() + " --quiet --out '" + out.string() + "'", tag,
                              kMpiEnv + " " + env);
}

TEST(ShardSpec, ParsesKOfNAndRefusesTheRest) {
  const attrib::ShardSpec s = attrib::parse_shard("2/4");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 4);
  for (const char* bad : {"0/3", "4/3", "1/0", "a/b", "1", "1/3/4", "-1/3", "1/1000000"})
    EXPECT_THROW(attrib::parse_shard(bad), attrib::Error) << bad;
}

TEST(Shard, ThreeShardsMergedEqualOneRun) {
  const fs::path base = out_dir("three");
  std::string dirs;
  for (int k = 1; k <= 3; ++k) {
    const fs::path d = base / ("s" + std::to_string(k));
    const Result r = attrib_test::attrib("run " + suite_arg() + " --quiet --shard " +
                                             std::to_string(k) + "/3 --out '" + d.string() + "'",
                                         "shard" + std::to_string(k));
    ASSERT_EQ(r.code, 0) << r.err;
    const json m = json::parse(slurp(d / "shard.json"));
    EXPECT_EQ(m["status"], "complete");
    EXPECT_FALSE(fs::exists(d / "results.json"));  // a shard's rows are partial: merge writes them
    dirs += " '" + d.string() + "'";
  }
  const fs::path merged = base / "merged";
  const Result r =
      attrib_test::attrib("merge" + dirs + " --quiet --out '" + merged.string() + "'", "merge3");
  ASSERT_EQ(r.code, 0) << r.err;
  const json m = results_of(merged);
  expect_same_results(reference(), m);
  // Every explanation and score came from the shards; only the analysis was computed here.
  const json& u = m["context"]["store"]["units"];
  EXPECT_EQ(u["explanation_units"]["computed"], 0);
  EXPECT_EQ(u["explanation_units"]["reused"], 12);
  EXPECT_EQ(u["score_units"]["computed"], 0);
  EXPECT_EQ(u["analysis_units"]["computed"], 1);
}

TEST(Shard, MergeRefusesMissingDuplicateAndForeignShards) {
  const fs::path base = out_dir("refuse");
  for (int k : {1, 3}) {
    const Result r =
        attrib_test::attrib("run " + suite_arg() + " --quiet --shard " + std::to_string(k) +
                                "/3 --out '" + (base / ("s" + std::to_string(k))).string() + "'",
                            "refuse" + std::to_string(k));
    ASSERT_EQ(r.code, 0) << r.err;
  }
  const std::string s1 = "'" + (base / "s1").string() + "'",
                    s3 = "'" + (base / "s3").string() + "'";
  const std::string out = " --quiet --out '" + (base / "merged").string() + "'";
  Result r = attrib_test::attrib("merge " + s1 + " " + s3 + out, "refuse_missing");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("missing shard(s) 2/3 of suite 'small'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(base / "merged" / "results.json"));

  r = attrib_test::attrib("merge " + s1 + " " + s1 + out, "refuse_duplicate");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("is also in"), std::string::npos) << r.err;

  json other = units_suite();
  other["seed"] = 4;
  const fs::path s2 = base / "s2-other-seed";
  r = attrib_test::attrib("run '" + write_suite("shard_other.json", other).string() +
                              "' --quiet --shard 2/3 --out '" + s2.string() + "'",
                          "refuse_other");
  ASSERT_EQ(r.code, 0) << r.err;
  r = attrib_test::attrib("merge " + s1 + " '" + s2.string() + "' " + s3 + out, "refuse_foreign");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("a shard of another run"), std::string::npos) << r.err;

  r = attrib_test::attrib("run " + suite_arg() + " --shard 4/3 --out x", "refuse_spec");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("expected K/N with 1 <= K <= N"), std::string::npos) << r.err;
}

TEST(Shard, MpirunWithTwoAndFourRanksEqualsOneRun) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun is not installed (Debian openmpi-bin)";
  for (int ranks : {2, 4}) {
    const fs::path out = out_dir("mpi" + std::to_string(ranks));
    const Result r = mpirun(ranks, out, "mpi" + std::to_string(ranks));
    if (r.err.find("built without MPI") != std::string::npos)
      GTEST_SKIP() << "this attrib was built without MPI (ATTRIB_WITH_MPI=OFF)";
    ASSERT_EQ(r.code, 0) << r.err;
    expect_same_results(reference(), results_of(out));
    for (int k = 1; k <= ranks; ++k)
      EXPECT_TRUE(fs::exists(out / ("shard-" + std::to_string(k) + "-of-" + std::to_string(ranks)) /
                             "store.sqlite"));
  }
}

TEST(Shard, KilledRanksResumeOnlyTheirMissingUnits) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun is not installed (Debian openmpi-bin)";
  const fs::path out = out_dir("mpi_killed");
  // Every rank is killed after committing 3 units (mpirun then ends the job).
  Result r = mpirun(2, out, "mpi_killed", "ATTRIB_FAULT_KILL_AFTER_UNITS=3");
  if (r.err.find("built without MPI") != std::string::npos)
    GTEST_SKIP() << "this attrib was built without MPI (ATTRIB_WITH_MPI=OFF)";
  EXPECT_NE(r.code, 0) << r.err;
  EXPECT_FALSE(fs::exists(out / "results.json"));
  r = mpirun(2, out, "mpi_resumed");
  ASSERT_EQ(r.code, 0) << r.err;
  expect_same_results(reference(), results_of(out));
  int64_t computed = 0, reused = 0;
  for (int k = 1; k <= 2; ++k) {
    const json m =
        json::parse(slurp(out / ("shard-" + std::to_string(k) + "-of-2") / "shard.json"));
    const json& u = m["store"]["units"];
    computed += u["explanation_units"]["computed"].get<int64_t>() +
                u["score_units"]["computed"].get<int64_t>();
    reused +=
        u["explanation_units"]["reused"].get<int64_t>() + u["score_units"]["reused"].get<int64_t>();
  }
  // 3 units per rank survived the kill; the second mpirun reused them and computed the rest.
  EXPECT_EQ(reused, 6);
  EXPECT_EQ(computed + reused, 12 + 24);
}

}  // namespace
