// suites/generation end to end: the built-in causal LM trained on synthetic:facts answers held-out
// prompts, the methods that should find the deciding slot do, `random` ranks last, the
// randomisation checks run through the LM's layers, and the cached model is a generative model for
// `attrib explain --model torchscript:PATH --template ...`.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "cli_support.h"

namespace {

namespace fs = std::filesystem;
using attrib_test::attrib;
using attrib_test::Result;
using attrib_test::slurp;
using nlohmann::json;

// metric -> method -> mean over the examples.
std::map<std::string, std::map<std::string, double>> means(const json& doc) {
  std::map<std::string, std::map<std::string, double>> out;
  for (const json& m : doc["leaderboards"]["boards"][0]["metrics"])
    for (const json& e : m["entries"]) out[m["metric"]][e["method"]] = e["mean"].get<double>();
  return out;
}

TEST(GenerationSuite, TheLmAnswersAndTheMethodsFindTheDecidingSlot) {
  json suite = json::parse(slurp(fs::path(ATTRIB_SOURCE_DIR) / "suites/generation/suite.json"));
  suite["datasets"][0]["max_examples"] = 32;
  suite["statistics"]["bootstrap_resamples"] = 200;
  suite["randomisation"]["max_examples"] = 4;
  suite["randomisation"]["tests"] = {"cascading"};
  const fs::path out = fs::path(ATTRIB_TEST_TMP) / "generation" / "out";
  fs::remove_all(out);
  const Result r = attrib("run '" + attrib_test::write_suite("generation.json", suite).string() +
                              "' --threads 1 --out '" + out.string() + "'",
                          "generation");
  ASSERT_EQ(r.code, 0) << r.err;
  const json doc = json::parse(slurp(out / "results.json"));
  const json& model = doc["models"][0];
  EXPECT_GE(model["train"]["val_accuracy"].get<double>(), 0.95) << model.dump();

  const auto mean = means(doc);
  for (const char* method : {"feature_ablation", "shapley_exact", "kernel_shap"}) {
    EXPECT_GT(mean.at("token_f1").at(method), 0.9) << method;
    EXPECT_GT(mean.at("comprehensiveness").at(method), mean.at("comprehensiveness").at("random"))
        << method;
  }
  for (const char* metric : {"token_f1", "auprc"}) {
    double worst = 1e9;
    std::string last;
    for (const auto& [method, v] : mean.at(metric))
      if (v < worst) worst = v, last = method;
    EXPECT_EQ(last, "random") << metric;
  }
  // Cascading randomisation: the random control is unchanged by it (fails), saliency is not.
  std::map<std::string, bool> passes;
  for (const json& e : doc["randomisation"])
    if (e["test"] == "cascading" && e["similarity"] == "spearman_abs")
      passes[e["method"]] = e["passes"].get<bool>();
  EXPECT_FALSE(passes.at("random"));
  EXPECT_TRUE(passes.at("saliency"));

  // The cached model is a causal LM: its greedy continuation of a held-out prompt is the answer.
  const std::string pt = model["checkpoint"];
  const Result g = attrib("explain --model 'torchscript:" + pt +
                              "' --method feature_ablation --param token=unk --max-new-tokens 1"
                              " --template '{name} owns a {animal} and drew a {adj} {other} in"
                              " {place} . the pet says' --slot name=kai --slot animal=cow"
                              " --slot adj=shy --slot other=owl --slot place=rome --json",
                          "generation_explain");
  ASSERT_EQ(g.code, 0) << g.err;
  const json gen = json::parse(g.out)["generation"];
  EXPECT_EQ(gen["target_tokens"], json({"moo"}));
  EXPECT_EQ(gen["features"], json({"name", "animal", "adj", "other", "place"}));
  const std::vector<double> seq = gen["seq_attr"];
  EXPECT_EQ(std::max_element(seq.begin(), seq.end()) - seq.begin(), 1) << gen.dump();
}

}  // namespace
