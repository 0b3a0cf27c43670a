// generation/prompt_template.h through `attrib explain --template`: known answers on a hand-built
// causal LM whose probability of "yes" after a prompt is 0.1 + the sum of its tokens' weights, so
// that every slot's contribution is known: ablation, exact Shapley and KernelSHAP scores, groups of
// slots, fixed baselines of another length, and baseline distributions averaged over their draws.
#include "generation/prompt_template.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "cli_support.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kVocab = {"<pad>", "<unk>", "<mask>", "yes", "no", "the", "is",
                                         "a",     "b",     "c",      "d",   "e",  "f"};
const std::map<std::string, double> kWeight = {{"a", 0.3},  {"b", 0.1},  {"c", 0.2},
                                               {"d", 0.05}, {"e", 0.15}, {"f", 0.0}};
constexpr double kBase = 0.1;

// p(yes | prompt) = 0.1 + sum of the prompt's token weights (special and template tokens 0),
// p(no) = 1 - p(yes): next-token logits log p, causal through a cumulative sum.
fs::path hand_lm() {
  const fs::path path = fs::path(ATTRIB_TEST_TMP) / "prompt_template" / "hand_lm.pt";
  if (fs::exists(path)) return path;
  fs::create_directories(path.parent_path());
  std::vector<float> w(kVocab.size(), 0.0f);
  for (const auto& [token, weight] : kWeight)
    w[std::find(kVocab.begin(), kVocab.end(), token) - kVocab.begin()] = static_cast<float>(weight);
  torch::jit::Module m("HandLm");
  m.register_attribute("training", c10::BoolType::get(), false);
  m.register_buffer("w", at::tensor(w).unsqueeze(1));
  const json meta = {
      {"input_kind", "causal_lm"}, {"vocab", kVocab}, {"pad_id", 0}, {"unk_id", 1}, {"mask_id", 2},
      {"eos_id", nullptr}};
  m.register_attribute("metadata_json", c10::StringType::get(), meta.dump());
  m.define(R"TS(
def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    contrib = torch.embedding(self.w, input_ids).squeeze(2) * attention_mask.float()
    p_yes = 0.1 + contrib.cumsum(1)
    probs = torch.zeros([input_ids.size(0), input_ids.size(1), self.w.size(0)])
    probs[:, :, 3] = p_yes
    probs[:, :, 4] = 1.0 - p_yes
    return torch.log(probs.clamp(min=1.0e-30))

def metadata(self) -> str:
    return self.metadata_json
)TS");
  m.save(path.string());
  return path;
}

attrib_test::Result explain(const std::string& args, const std::string& tag) {
  return attrib_test::attrib(
      "explain --model 'torchscript:" + hand_lm().string() + "' --target-text yes --json " + args,
      tag);
}

json generation(const std::string& args, const std::string& tag) {
  const attrib_test::Result r = explain(args, tag);
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? json::parse(r.out)["generation"] : json::object();
}

const std::string kPrompt = "--template '{x} the {y} is {z}' --slot x=a --slot 'y=b d' --slot z=c";

void expect_scores(const json& g, const std::vector<double>& want, const std::string& what) {
  ASSERT_TRUE(g.contains("seq_attr")) << what;
  ASSERT_EQ(g["seq_attr"].size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(g["seq_attr"][i].get<double>(), want[i], 1e-6) << what << ", feature " << i;
}

// Slot weights: x = a (0.3), y = "b d" (0.15), z = c (0.2).
TEST(PromptTemplate, AdditiveProbabilityGivesEachSlotsWeightUnderEveryMethod) {
  for (const char* method : {"feature_ablation", "shapley_exact", "kernel_shap"}) {
    const json g = generation(kPrompt + " --target-output prob --method " + method,
                              std::string("template_prob_") + method);
    expect_scores(g, {0.3, 0.15, 0.2}, method);
    EXPECT_EQ(g["features"], json({"x", "y", "z"}));
    EXPECT_NEAR(g["target_scores"][0].get<double>(), kBase + 0.65, 1e-6);
  }
}

// log p(yes) is not additive: ablation is v(all) - v(all without f), and Shapley the weighted
// average of f's marginal contributions over the coalitions of the other two slots.
TEST(PromptTemplate, LogProbabilityScoresAreTheHandComputedAblationAndShapleyValues) {
  const std::vector<double> w = {0.3, 0.15, 0.2};
  auto v = [&](int coalition) {
    double p = kBase;
    for (int f = 0; f < 3; ++f)
      if (coalition >> f & 1) p += w[f];
    return std::log(p);
  };
  std::vector<double> ablation, shapley;
  for (int f = 0; f < 3; ++f) {
    ablation.push_back(v(7) - v(7 & ~(1 << f)));
    double phi = 0;
    for (int s = 0; s < 8; ++s) {
      if (s >> f & 1) continue;
      const int size = __builtin_popcount(s);
      const double weight = size == 1 ? 1.0 / 6.0 : 1.0 / 3.0;  // |S|! (M - |S| - 1)! / M!
      phi += weight * (v(s | 1 << f) - v(s));
    }
    shapley.push_back(phi);
  }
  expect_scores(generation(kPrompt + " --method feature_ablation", "template_log_ablation"),
                ablation, "feature_ablation");
  expect_scores(generation(kPrompt + " --method shapley_exact", "template_log_shapley"), shapley,
                "shapley_exact");
  // Every proper coalition fits the sample budget, so KernelSHAP's regression is exact.
  expect_scores(generation(kPrompt + " --method kernel_shap", "template_log_kernel"), shapley,
                "kernel_shap");
}

TEST(PromptTemplate, GroupedSlotsGetOneJointScore) {
  for (const char* method : {"feature_ablation", "shapley_exact"}) {
    const json g = generation(kPrompt + " --group xz=x,z --target-output prob --method " + method,
                              std::string("template_group_") + method);
    EXPECT_EQ(g["features"], json({"xz", "y"}));
    EXPECT_EQ(g["feature_space"], "slots");
    expect_scores(g, {0.5, 0.15}, method);
  }
  // log p: one joint ablation, v(all) - v(y alone).
  const json g = generation(kPrompt + " --group xz=z,x --method feature_ablation", "template_gl");
  expect_scores(g, {std::log(0.75) - std::log(0.25), std::log(0.75) - std::log(0.6)}, "log");
}

TEST(PromptTemplate, AFixedBaselineReplacesTheSlotWithTextOfAnyLength) {
  // x = a becomes "d e" (two tokens, 0.2); y = "b d" becomes "" (removed, 0).
  const json g = generation(
      kPrompt + " --baseline 'x=d e' --baseline y= --target-output prob --method feature_ablation",
      "template_baseline");
  expect_scores(g, {0.3 - 0.2, 0.15, 0.2}, "fixed baselines");
  EXPECT_EQ(g["baselines"]["x"], json({"d e"}));
  EXPECT_FALSE(g.contains("baseline_draws"));
}

// y's baseline drawn from {d, e, f}: the attribution is the mean over the recorded draws of
// 0.15 - w(drawn); the draws follow the seed.
TEST(PromptTemplate, ABaselineDistributionAveragesOverItsSeededDraws) {
  const std::string args = kPrompt +
                           " --baseline 'y=d|e|f' --baseline-draws 6 --target-output prob"
                           " --method shapley_exact --seed ";
  const json g = generation(args + "3", "template_draws");
  ASSERT_EQ(g["baseline_draws"].size(), 6u);
  double mean = 0;
  std::set<std::string> seen;
  for (const json& d : g["baseline_draws"]) {
    const std::string text = d["y"];
    seen.insert(text);
    mean += (0.15 - kWeight.at(text)) / 6.0;
  }
  EXPECT_GT(seen.size(), 1u) << "six draws from three texts all alike";
  expect_scores(g, {0.3, mean, 0.2}, "distribution");
  EXPECT_EQ(generation(args + "3", "template_draws_again")["baseline_draws"], g["baseline_draws"]);
}

TEST(PromptTemplate, GradientMethodsAndBadSlotOptionsAreRefused) {
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {kPrompt + " --group g=x,w --method feature_ablation", "no slot {w}"},
      {kPrompt + " --group g=x,y --group h=y,z --method feature_ablation", "already in group"},
      {kPrompt + " --group x=x,y --method feature_ablation", "name of a slot"},
      {kPrompt + " --baseline w=a --method feature_ablation", "--baseline w"},
      {kPrompt + " --baseline-draws 3 --baseline x=d --method feature_ablation",
       "--baseline-draws"},
      {"--text 'a the b' --group g=a,b --method feature_ablation", "only with --template"},
  };
  for (const Case& c : cases) {
    const attrib_test::Result r = explain(c.args, "template_bad");
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
  }
  // Slot-level inputs have no embeddings: a gradient method is refused before it runs.
  const attrib_test::Result r = explain(kPrompt + " --group g=x,y --method saliency", "tg");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("saliency"), std::string::npos) << r.err;
}

}  // namespace
