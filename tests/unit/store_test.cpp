// The run store (harness/src/store/): units round-trip bit for bit, keys change with every input
// that determines a unit, and a damaged, foreign or newer store is refused with a clear error.
#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "attrib/error.h"
#include "metric.h"
#include "store/npz.h"
#include "store/unit_key.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace attrib {
namespace {

fs::path fresh_path(const std::string& name) {
  const fs::path dir = fs::path(ATTRIB_TEST_TMP) / "store";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  for (const char* s : {"", "-wal", "-shm"}) fs::remove(p.string() + s);
  return p;
}

ExplanationUnit text_unit(const std::string& key) {
  ExplanationUnit u;
  u.key = key;
  u.identity = {{"unit", "explanation"}, {"k", key}};
  u.dataset = "d";
  u.model = "m";
  u.method = "saliency";
  u.plugin = "saliency";
  u.ids = {"a", "b"};
  u.token_scores = at::tensor({1.5f, -0.25f, 0.0f, 3.0f, 1e-30f, -0.0f}).reshape({2, 3});
  u.word_ids = at::tensor({0, 1, -1, 0, 0, 1}, at::kLong).reshape({2, 3});
  u.tokens = {{"the", "cat"}, {"re", "##ad", "it"}};
  u.info = {{"abs", true}};
  u.seconds = 0.5;
  u.forward_rows = 2;
  u.backward_rows = 2;
  u.extras["delta"] = {0.125, std::nan("")};
  return u;
}

void sql(const fs::path& p, const std::string& statement) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(p.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
  sqlite3_free(err);
  sqlite3_close(db);
}

std::string open_error(const fs::path& p) {
  try {
    RunStore s(p.string());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(RunStore, ExplanationUnitsRoundTripBitForBit) {
  const fs::path p = fresh_path("roundtrip.sqlite");
  const ExplanationUnit u = text_unit("k1");
  {
    RunStore s(p.string());
    s.begin_run({{"suite", "t"}});
    EXPECT_FALSE(s.find_explanation("k1"));
    s.put_explanation(u);
    s.end_run("complete");
    EXPECT_EQ(s.counts().explanations_computed, 1);
  }
  RunStore s(p.string());  // reopened: nothing lives only in memory
  const auto back = s.find_explanation("k1");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->ids, u.ids);
  EXPECT_TRUE(at::equal(back->token_scores, u.token_scores));
  EXPECT_TRUE(std::signbit(back->token_scores[1][2].item<float>()));  // -0.0 kept
  EXPECT_TRUE(at::equal(back->word_ids, u.word_ids));
  EXPECT_EQ(back->tokens, u.tokens);
  EXPECT_EQ(back->info, u.info);
  EXPECT_EQ(back->forward_rows, 2);
  EXPECT_EQ(back->extras.at("delta")[0], 0.125);
  EXPECT_TRUE(std::isnan(back->extras.at("delta")[1]));
  EXPECT_EQ(back->identity, u.identity);
}

TEST(RunStore, ScoreAndAnalysisUnitsKeepNaN) {
  const fs::path p = fresh_path("scores.sqlite");
  RunStore s(p.string());
  s.begin_run(json::object());
  ScoreUnit sc;
  sc.key = "s1";
  sc.explanation_key = "k1";
  sc.identity = {{"unit", "score"}};
  sc.scores = {0.1, std::nan(""), -std::numeric_limits<double>::infinity()};
  sc.components["auc"] = {1.0, 2.0, 3.0};
  sc.curves["deletion"] = std::vector<double>(3 * kCurvePoints, 0.25);
  sc.curves["deletion"][kCurvePoints] = std::nan("");
  sc.info = {{"steps", 10}};
  sc.aggregation = "mean";
  s.put_score(sc);
  const auto back = s.find_score("s1");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->scores[0], 0.1);
  EXPECT_TRUE(std::isnan(back->scores[1]));
  EXPECT_EQ(back->scores[2], sc.scores[2]);
  EXPECT_EQ(back->components.at("auc"), sc.components.at("auc"));
  ASSERT_EQ(back->curves.at("deletion").size(), static_cast<size_t>(3 * kCurvePoints));
  EXPECT_EQ(back->curves.at("deletion")[0], 0.25);
  EXPECT_TRUE(std::isnan(back->curves.at("deletion")[kCurvePoints]));
  EXPECT_EQ(back->aggregation, "mean");

  AnalysisUnit an;
  an.key = "a1";
  an.analysis = "agreement";
  an.entries = json::array({{{"value", std::nan("")}, {"n", 3}}});
  s.put_analysis(an);
  const auto a = s.find_analysis("a1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(std::isnan(a->entries[0]["value"].get<double>()));  // CBOR, not JSON text
  EXPECT_EQ(a->entries[0]["n"], 3);
}

TEST(RunStore, ScoreUnitsKeepTheirCostAndUnitsWithoutOneStayUncosted) {
  const fs::path p = fresh_path("costs.sqlite");
  RunStore s(p.string());
  s.begin_run(json::object());
  ScoreUnit sc;
  sc.key = "costed";
  sc.explanation_key = "k1";
  sc.identity = {{"unit", "score"}};
  sc.scores = {0.5};
  sc.info = json::object();
  sc.aggregation = "mean";
  sc.seconds = 2.5;
  sc.costed = true;
  sc.forward_rows = 1234;
  sc.saved_rows = 32;
  sc.model_seconds = 2.25;
  s.put_score(sc);
  ScoreUnit old = sc;  // as a store written before the costs were kept holds it
  old.key = "uncosted";
  old.costed = false;
  s.put_score(old);
  const auto back = s.find_score("costed");
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->costed);
  EXPECT_EQ(back->forward_rows, 1234);
  EXPECT_EQ(back->saved_rows, 32);
  EXPECT_EQ(back->model_seconds, 2.25);
  EXPECT_EQ(back->seconds, 2.5);
  const auto none = s.find_score("uncosted");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->costed);
  // Re-putting a unit without a cost drops the old one.
  sc.costed = false;
  s.put_score(sc);
  EXPECT_FALSE(s.find_score("costed")->costed);
}

TEST(RunStore, LatestRunListsTheUnitsItUsed) {
  const fs::path p = fresh_path("latest.sqlite");
  RunStore s(p.string());
  s.begin_run(json::object());
  s.put_explanation(text_unit("old"));
  s.put_explanation(text_unit("both"));
  s.begin_run(json::object());
  s.touch_explanation("both", "d", "m", "renamed");
  ExplanationUnit n = text_unit("new");
  n.method = "ig";
  s.put_explanation(n);
  EXPECT_EQ(s.latest_explanation_keys(), (std::vector<std::string>{"both", "new"}));
  EXPECT_EQ(s.latest_explanation_keys("renamed"), (std::vector<std::string>{"both"}));
  EXPECT_EQ(s.find_explanation("both")->method, "renamed");
}

TEST(RunStore, RefusesNewerSchemaForeignAndDamagedFiles) {
  const fs::path newer = fresh_path("newer.sqlite");
  { RunStore s(newer.string()); }
  sql(newer, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  EXPECT_NE(open_error(newer).find("schema version 99, this attrib reads up to 1"),
            std::string::npos)
      << open_error(newer);

  const fs::path foreign = fresh_path("foreign.sqlite");
  sql(foreign, "CREATE TABLE t(x)");
  EXPECT_NE(open_error(foreign).find("not an attrib run store"), std::string::npos);

  const fs::path garbage = fresh_path("garbage.sqlite");
  std::ofstream(garbage) << std::string(5000, 'x');
  const std::string g = open_error(garbage);
  EXPECT_NE(g.find(garbage.string()), std::string::npos) << g;
  EXPECT_NE(g.find("not a database"), std::string::npos) << g;

  // A real store cut short (a copy interrupted, a full disk).
  const fs::path full = fresh_path("full.sqlite");
  {
    RunStore s(full.string());
    s.begin_run(json::object());
    for (int i = 0; i < 40; ++i) s.put_explanation(text_unit("k" + std::to_string(i)));
  }
  const fs::path cut = fresh_path("truncated.sqlite");
  fs::copy_file(full, cut);
  fs::resize_file(cut, fs::file_size(full) / 2);
  EXPECT_NE(open_error(cut).find(cut.string()), std::string::npos) << open_error(cut);
}

TEST(RunStore, AFailedWriteWarnsOnceAndTheRunGoesOnWithoutTheStore) {
  const fs::path p = fresh_path("failing.sqlite");
  RunStore s(p.string());
  std::vector<std::string> warnings;
  s.on_failure([&](const std::string& m) { warnings.push_back(m); });
  s.begin_run(json::object());
  s.put_explanation(text_unit("k1"));
  sql(p, "DROP TABLE extras");  // every later explanation write fails, as on a full disk
  s.put_explanation(text_unit("k2"));
  s.put_explanation(text_unit("k3"));
  EXPECT_TRUE(s.failed());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("the run goes on without keeping its work"), std::string::npos);
  EXPECT_FALSE(s.find_explanation("k1"));  // a failed store is no longer read either
  s.end_run("complete");                   // and never throws
}

TEST(UnitKey, ChangesWithEveryField) {
  const json base = {{"dataset_hash", "1"}, {"seed", 0}, {"method", {{"params", {{"n", 8}}}}}};
  const std::string k = unit_key(base);
  EXPECT_EQ(k.size(), 32u);
  EXPECT_EQ(k, unit_key(json::parse(base.dump())));  // key order does not matter
  json other = base;
  other["seed"] = 1;
  EXPECT_NE(unit_key(other), k);
  other = base;
  other["method"]["params"]["n"] = 9;
  EXPECT_NE(unit_key(other), k);
}

TEST(Npz, WritesNpyHeadersNumpyReads) {
  const NpyArray a{"x", "<f4", {2, 3}, std::string(24, '\0')};
  const std::string npy = npy_bytes(a);
  EXPECT_EQ(npy.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ((npy.size() - a.bytes.size()) % 64, 0u);  // data aligned
  EXPECT_NE(npy.find("'shape': (2,3)"), std::string::npos);
  EXPECT_NE(npy_bytes({"v", "<i8", {4}, std::string(32, '\0')}).find("'shape': (4,)"),
            std::string::npos);
  int64_t width = 0;
  const std::string u = utf32_array({"ab", "\xc3\xa9"}, width);  // "é" is one code point
  EXPECT_EQ(width, 2);
  EXPECT_EQ(u.size(), 16u);
  EXPECT_EQ(static_cast<unsigned char>(u[8]), 0xe9);
}

}  // namespace
}  // namespace attrib
