// End-to-end tests of `attrib train`: a tiny transformer trained on a tiny planted-evidence set
// through the CLI binary, the report beside the checkpoint, the model cache it shares with
// suites, loading the checkpoint back, and the exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "attrib/plugin.h"
#include "data/dataset.h"
#include "registry.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Result {
  int code;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Each test's own folder (its files and model cache): ctest runs these tests in parallel.
fs::path dir() {
  return fs::path(ATTRIB_TEST_TMP) / "train_cli" /
         ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

// Runs attrib with `args` (shell words) against the test's own model cache.
Result attrib(const std::string& args, const std::string& tag) {
  fs::create_directories(dir());
  const fs::path out = dir() / (tag + ".out"), err = dir() / (tag + ".err");
  const std::string cmd = "ATTRIB_CACHE_DIR='" + (dir() / "cache").string() +
                          "' '" ATTRIB_BIN "' " + args + " >'" + out.string() + "' 2>'" +
                          err.string() + "'";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

// 300 / 60 / 60 planted-evidence examples; a one-layer d_model = 16 transformer, 3 epochs.
const char* kData =
    "--dataset synthetic:planted_text --dataset-param n_train=300 --dataset-param n_val=60 "
    "--dataset-param n_test=60 --dataset-param seed=5";
const char* kModel =
    "--model text_transformer --param d_model=16 --param n_layers=1 --param d_ff=32";
const char* kTrain = "--epochs 3 --lr 0.005 --patience 2 --seed 1 --max-len 32";

TEST(TrainCli, TrainsCachesAndLoadsBack) {
  fs::remove_all(dir());
  const fs::path pt = dir() / "out" / "model.pt";
  const std::string cmd = std::string("train ") + kModel + " " + kData + " " + kTrain +
                          " --threads 2 --json --out '" + pt.string() + "'";
  Result r1 = attrib(cmd, "first");
  ASSERT_EQ(r1.code, 0) << r1.err;
  ASSERT_TRUE(fs::exists(pt));
  const json rep1 = json::parse(slurp(dir() / "out" / "model.json"));
  EXPECT_EQ(json::parse(r1.out), rep1);  // --json prints the report that model.json stores
  EXPECT_FALSE(rep1["cached"].get<bool>());
  // Options recorded in canonical form; the dataset spec, parameters and hash too.
  EXPECT_EQ(rep1["options"]["epochs"], 3);
  EXPECT_DOUBLE_EQ(rep1["options"]["learning_rate"].get<double>(), 0.005);
  EXPECT_EQ(rep1["options"]["patience"], 2);
  EXPECT_EQ(rep1["options"]["seed"], 1);
  EXPECT_EQ(rep1["options"]["batch_size"], 64);
  EXPECT_EQ(rep1["dataset"]["spec"], "synthetic:planted_text");
  EXPECT_EQ(rep1["dataset"]["params"]["n_train"], 300);
  EXPECT_EQ(rep1["dataset"]["hash"].get<std::string>().size(), 16u);
  EXPECT_EQ(rep1["dataset"]["max_len"], 32);
  const double acc = rep1["val_accuracy"];
  EXPECT_GE(acc, 0.0);
  EXPECT_LE(acc, 1.0);
  EXPECT_TRUE(rep1.contains("val_macro_f1"));
  const int64_t epochs_run = rep1["epochs_run"];
  EXPECT_GE(epochs_run, 1);
  EXPECT_LE(epochs_run, 3);
  EXPECT_EQ(rep1["history"].size(), static_cast<size_t>(epochs_run));
  // The reported val accuracy is the best epoch's (the best weights are kept).
  double best = 0;
  for (const auto& h : rep1["history"]) best = std::max(best, h["val_accuracy"].get<double>());
  EXPECT_DOUBLE_EQ(acc, best);
  ASSERT_TRUE(rep1["test"].is_object());
  EXPECT_EQ(rep1["test"]["n"], 60);

  // Same call again: served from the cache, identical numbers, far less time.
  Result r2 = attrib(cmd, "second");
  ASSERT_EQ(r2.code, 0) << r2.err;
  const json rep2 = json::parse(r2.out);
  EXPECT_TRUE(rep2["cached"].get<bool>());
  EXPECT_EQ(rep2["cache_key"], rep1["cache_key"]);
  EXPECT_EQ(rep2["val_accuracy"], rep1["val_accuracy"]);
  EXPECT_EQ(rep2["test"], rep1["test"]);
  EXPECT_NE(r2.err.find("loaded from cache"), std::string::npos) << r2.err;

  // The checkpoint loads back through the plugin's checkpoint parameter; its test accuracy,
  // recomputed here, is the reported one (count / 60 exactly).
  attrib::Registry registry;
  registry.load_directories({ATTRIB_BUILTIN_PLUGIN_DIR});
  auto model = registry.create_model("text_transformer", {{"checkpoint", pt.string()}});
  const attrib::Dataset ds =
      attrib::load_dataset("data", "synthetic:planted_text",
                           {{"n_train", 300}, {"n_val", 60}, {"n_test", 60}, {"seed", 5}});
  EXPECT_EQ(ds.hash, rep1["dataset"]["hash"]);
  const attrib::Vocab vocab(model->info().vocab);
  attrib::Batch b = attrib::collate_text(ds.test, 0, ds.test.size(), vocab, 32);
  at::Tensor logits;
  {
    at::NoGradGuard no_grad;
    logits = model->forward(b.inputs, b.attention_mask);
  }
  const int64_t correct = logits.argmax(1).eq(b.labels).sum().item<int64_t>();
  EXPECT_DOUBLE_EQ(rep1["test"]["accuracy"].get<double>(), correct / 60.0);

  // `attrib explain --model text_transformer:PATH` gives the same logits as the loaded model.
  const std::string text = "alpha beta gamma";
  Result e = attrib("explain --model 'text_transformer:" + pt.string() +
                        "' --method saliency --text '" + text + "' --json",
                    "explain");
  ASSERT_EQ(e.code, 0) << e.err;
  attrib::TextExample ex{"x", attrib::whitespace_tokens(text), -1, {}};
  std::vector<attrib::TextExample> one = {ex};
  attrib::Batch xb = attrib::collate_text(one, 0, 1, vocab, 1 << 20);
  at::Tensor lx;
  {
    at::NoGradGuard no_grad;
    lx = model->forward(xb.inputs, xb.attention_mask).to(at::kDouble);
  }
  const json el = json::parse(e.out)["logits"][0];
  ASSERT_EQ(el.size(), static_cast<size_t>(lx.size(1)));
  for (int64_t k = 0; k < lx.size(1); ++k)
    EXPECT_NEAR(el[k].get<double>(), lx[0][k].item<double>(), 1e-5) << k;

  // A suite asking for the same training (dataset named "data" like the command's default, so
  // the synthetic example ids agree) reuses the cached model instead of training.
  json suite = {
      {"schema_version", 1},
      {"name", "train_cache"},
      {"statistics", {{"bootstrap_resamples", 100}}},
      {"datasets",
       {{{"name", "data"},
         {"spec", "synthetic:planted_text"},
         {"params", {{"n_train", 300}, {"n_val", 60}, {"n_test", 60}, {"seed", 5}}},
         {"max_examples", 4},
         {"max_len", 32}}}},
      {"models",
       {{{"name", "tiny"},
         {"plugin", "text_transformer"},
         {"params", {{"d_model", 16}, {"n_layers", 1}, {"d_ff", 32}}},
         {"train", {{"epochs", 3}, {"learning_rate", 0.005}, {"patience", 2}, {"seed", 1}}}}}},
      {"methods", {{{"plugin", "random"}}}},
      {"metrics", {{{"metric", "sparseness"}}}}};
  const fs::path suite_file = dir() / "suite.json";
  std::ofstream(suite_file) << suite.dump(2);
  Result s =
      attrib("run '" + suite_file.string() + "' --quiet --out '" + (dir() / "run").string() + "'",
             "suite");
  ASSERT_EQ(s.code, 0) << s.err;
  const json res = json::parse(slurp(dir() / "run" / "results.json"));
  EXPECT_TRUE(res["models"][0]["train"]["cached"].get<bool>());
  EXPECT_EQ(res["models"][0]["train"]["cache_key"], rep1["cache_key"]);
}

TEST(TrainCli, ExitCodes) {
  Result h = attrib("train --help", "help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("usage: attrib train"), std::string::npos);
  const std::string out = " --out '" + (dir() / "x.pt").string() + "'";
  Result r = attrib(std::string("train ") + kModel + " " + kData + " --lr fast" + out, "bad_lr");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--lr: expected a number"), std::string::npos) << r.err;
  r = attrib(std::string("train ") + kModel + " " + kData + " --frobnicate" + out, "bad_opt");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown option --frobnicate"), std::string::npos) << r.err;
  r = attrib(std::string("train ") + kModel + " " + kData, "no_out");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--out is required"), std::string::npos) << r.err;
  r = attrib(std::string("train --model no_such_model ") + kData + out, "unknown_model");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("no model plugin named \"no_such_model\""), std::string::npos) << r.err;
  r = attrib(std::string("train ") + kModel + " --dataset synthetic:nothing" + out, "bad_spec");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("unknown dataset spec 'synthetic:nothing'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir() / "x.pt"));
}

}  // namespace

namespace {

// A damaged cache entry (a checkpoint cut short) is detected by the size and hash its report
// records and trained again; a cache that cannot be written (a full disk: a 16 KiB tmpfs) costs
// only the caching, with a warning and no temporary file left behind.
TEST(TrainCli, DamagedOrUnwritableCacheEntries) {
  // --out lies outside the cache: when the cache cannot be written, the model is saved there.
  const fs::path copy = dir() / "cache_out" / "model.pt";
  const std::string cmd = std::string("train ") + kModel + " " + kData + " " + kTrain +
                          " --json --out '" + copy.string() + "'";
  fs::remove_all(dir() / "cache");
  Result first = attrib(cmd, "cache_first");
  ASSERT_EQ(first.code, 0) << first.err;
  fs::path pt;
  for (const auto& e : fs::directory_iterator(dir() / "cache" / "models"))
    if (e.path().extension() == ".pt") pt = e.path();
  ASSERT_FALSE(pt.empty());
  fs::path entry = pt;
  const json rep = json::parse(slurp(entry.replace_extension(".json")));
  EXPECT_EQ(rep["checkpoint_bytes"], fs::file_size(pt));
  EXPECT_EQ(rep["checkpoint_fnv1a"].get<std::string>().size(), 16u);
  fs::resize_file(pt, fs::file_size(pt) / 2);
  Result again = attrib(cmd, "cache_damaged");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("is damaged"), std::string::npos) << again.err;
  EXPECT_FALSE(json::parse(again.out)["cached"].get<bool>());
  EXPECT_EQ(fs::file_size(pt), rep["checkpoint_bytes"].get<uintmax_t>());  // rewritten whole
  EXPECT_TRUE(json::parse(attrib(cmd, "cache_reused").out)["cached"].get<bool>());

  const fs::path tiny = dir() / "tiny";
  fs::create_directories(tiny);
  if (std::system(
          ("mount -t tmpfs -o size=16k tmpfs '" + tiny.string() + "' 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "cannot mount a tmpfs (needs root) to fill a disk";
  const fs::path err = dir() / "cache_full.err";
  const int status = std::system(("ATTRIB_CACHE_DIR='" + tiny.string() + "' '" ATTRIB_BIN "' " +
                                  cmd + " >/dev/null 2>'" + err.string() + "'")
                                     .c_str());
  std::vector<std::string> left;
  if (fs::exists(tiny / "models"))
    for (const auto& e : fs::directory_iterator(tiny / "models"))
      if (e.path().extension() != ".lock")  // the entry's empty lock file (see train.cpp) stays
        left.push_back(e.path().string());
  std::system(("umount '" + tiny.string() + "'").c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(err);
  EXPECT_NE(slurp(err).find("could not write the model cache entry"), std::string::npos)
      << slurp(err);
  EXPECT_TRUE(left.empty()) << left.front();
  EXPECT_GT(fs::file_size(copy), 1000u);
}

}  // namespace
