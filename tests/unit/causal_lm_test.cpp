// generation/causal_lm.h through `attrib explain`: a causal LM exported from Python (plain torch,
// random weights) explained by its continuation's log-probability.
#include "generation/causal_lm.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "cli_support.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool python_has_torch() {
  return std::system("'" ATTRIB_PYTHON "' -c 'import torch' >/dev/null 2>&1") == 0;
}

// The model file and Python's own feature-ablation numbers for `prompt` -> `target`.
fs::path make_lm(const std::string& prompt, const std::string& target, json& reference) {
  const fs::path dir = fs::path(ATTRIB_TEST_TMP) / "causal_lm";
  fs::create_directories(dir);
  const fs::path pt = dir / "tiny_gpt.pt", ref = dir / "reference.json";
  const std::string make =
      "'" ATTRIB_PYTHON "' '" ATTRIB_SOURCE_DIR "/tests/python/make_causal_lm.py' '" + pt.string() +
      "' '" + prompt + "' '" + target + "' '" + ref.string() + "'";
  EXPECT_EQ(std::system(make.c_str()), 0);
  reference = json::parse(attrib_test::slurp(ref));
  return pt;
}

// The `generation` block of `attrib explain --model torchscript:PT ARGS --json`.
json explain_lm(const fs::path& pt, const std::string& args, const std::string& tag) {
  const attrib_test::Result r = attrib_test::attrib(
      "explain --model 'torchscript:" + pt.string() + "' " + args + " --json", tag);
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? json::parse(r.out)["generation"] : json::object();
}

TEST(CausalLm, FeatureAblationOfAPythonLmMatchesPython) {
  if (!python_has_torch()) GTEST_SKIP() << ATTRIB_PYTHON << " cannot import torch (python3-torch)";
  json ref;
  const fs::path pt = make_lm("[BOS] the cat sat on the", "mat [EOS]", ref);
  ASSERT_NE(attrib::load_causal_lm(pt.string()), nullptr);
  const json g =
      explain_lm(pt,
                 "--method feature_ablation --text '[BOS] the cat sat on the' --target-text 'mat "
                 "[EOS]'",
                 "causal_lm_ablation");
  ASSERT_TRUE(g.contains("seq_attr"));
  EXPECT_EQ(g["target_tokens"], json({"mat", "[EOS]"}));
  EXPECT_FALSE(g["generated"].get<bool>());
  ASSERT_EQ(g["seq_attr"].size(), 6u);
  ASSERT_EQ(g["token_attr"].size(), 6u);
  for (size_t j = 0; j < 3; ++j)
    EXPECT_NEAR(g["target_scores"][j].get<double>(), ref["target_scores"][j].get<double>(), 1e-5);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_NEAR(g["seq_attr"][i].get<double>(), ref["seq_attr"][i].get<double>(), 1e-5) << i;
    for (size_t j = 0; j < 2; ++j)
      EXPECT_NEAR(g["token_attr"][i][j].get<double>(), ref["token_attr"][i][j].get<double>(), 1e-5)
          << i << ", " << j;
  }
}

// Exact Shapley values against Python's enumeration of all 64 coalitions; they add up to
// v(all words) - v(no word).
TEST(CausalLm, ExactShapleyMatchesPythonsEnumeration) {
  if (!python_has_torch()) GTEST_SKIP() << ATTRIB_PYTHON << " cannot import torch (python3-torch)";
  json ref;
  const fs::path pt = make_lm("[BOS] the cat sat on the", "mat [EOS]", ref);
  const json g = explain_lm(
      pt, "--method shapley_exact --text '[BOS] the cat sat on the' --target-text 'mat [EOS]'",
      "causal_lm_shapley");
  ASSERT_TRUE(g.contains("seq_attr"));
  double sum = 0;
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_NEAR(g["seq_attr"][i].get<double>(), ref["shapley_seq"][i].get<double>(), 1e-5) << i;
    sum += g["seq_attr"][i].get<double>();
  }
  EXPECT_NEAR(sum, ref["full_minus_empty"].get<double>(), 1e-4);
}

// A template slot is one feature however many tokens its text has: its ablation score is the
// drop of the sequence log-prob when all its tokens are masked together; the text around the
// slots is never perturbed.
TEST(CausalLm, TemplateSlotsAreJointFeatures) {
  if (!python_has_torch()) GTEST_SKIP() << ATTRIB_PYTHON << " cannot import torch (python3-torch)";
  json ref;
  const fs::path pt = make_lm("[BOS] the cat sat on the", "mat [EOS]", ref);
  const json g = explain_lm(pt,
                            "--method feature_ablation --template '[BOS] {who} sat on the {where}' "
                            "--slot 'who=the big cat' --slot where=rug --target-text 'ran [EOS]'",
                            "causal_lm_template");
  ASSERT_TRUE(g.contains("seq_attr"));
  EXPECT_EQ(g["features"], json({"who", "where"}));
  ASSERT_EQ(g["seq_attr"].size(), 2u);
  attrib::CausalLmTarget lm(pt.string());
  lm.set_target({13, 4});  // ran [EOS]
  // [BOS] the big cat sat on the rug, then with "the big cat" and with "rug" masked (id 2).
  const at::Tensor x = at::tensor({3, 5, 20, 7, 9, 10, 5, 12}, at::kLong).unsqueeze(0);
  const at::Tensor who = at::tensor({3, 2, 2, 2, 9, 10, 5, 12}, at::kLong).unsqueeze(0);
  const at::Tensor where = at::tensor({3, 5, 20, 7, 9, 10, 5, 2}, at::kLong).unsqueeze(0);
  const auto f = [&](const at::Tensor& ids) {
    return lm.forward(ids, at::ones_like(ids))[0][0].item<double>();
  };
  EXPECT_NEAR(g["seq_attr"][0].get<double>(), f(x) - f(who), 1e-5);
  EXPECT_NEAR(g["seq_attr"][1].get<double>(), f(x) - f(where), 1e-5);
  const attrib_test::Result bad =
      attrib_test::attrib("explain --model 'torchscript:" + pt.string() +
                              "' --method feature_ablation --template '{who} sat' --slot where=rug",
                          "causal_lm_template_bad");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("slot {who} has no text"), std::string::npos) << bad.err;
}

TEST(CausalLm, GreedyContinuationIsRecordedAndGradientsReachThePrompt) {
  if (!python_has_torch()) GTEST_SKIP() << ATTRIB_PYTHON << " cannot import torch (python3-torch)";
  json ref;
  const fs::path pt = make_lm("[BOS] a dog", "ran", ref);
  attrib::CausalLmTarget lm(pt.string());
  const std::vector<int64_t> prompt = {3, 6, 8};  // [BOS] a dog
  const std::vector<int64_t> cont = lm.generate(prompt, 4);
  ASSERT_GE(cont.size(), 1u);
  EXPECT_LE(cont.size(), 4u);
  for (size_t k = 0; k + 1 < cont.size(); ++k) EXPECT_NE(cont[k], lm.eos_id());
  lm.set_target(cont);
  // Teacher forcing of the greedy tokens: each is the argmax, so each has the top log-probability
  // and the sequence score is their sum.
  const at::Tensor x = at::tensor(prompt, at::kLong).unsqueeze(0);
  const at::Tensor s = lm.forward(x, at::ones_like(x));
  ASSERT_EQ(s.size(1), 1 + static_cast<int64_t>(cont.size()));
  EXPECT_NEAR(s[0][0].item<double>(), s[0].slice(0, 1).sum().item<double>(), 1e-5);
  // Right padding does not move the continuation: the same prompt padded gives the same scores.
  const at::Tensor padded = at::tensor({3, 6, 8, 0, 0}, at::kLong).unsqueeze(0);
  const at::Tensor mask = at::tensor({1, 1, 1, 0, 0}, at::kLong).unsqueeze(0);
  EXPECT_TRUE(at::allclose(lm.forward(padded, mask), s, 1e-5, 1e-6));
  // From embeddings: the same scores, and a gradient on every prompt position.
  at::Tensor e = lm.embed(x).detach().requires_grad_(true);
  const at::Tensor se = lm.forward_from_embeddings(e, at::ones_like(x));
  EXPECT_TRUE(at::allclose(se, s, 1e-5, 1e-6));
  se[0][0].backward();
  EXPECT_TRUE((e.grad().abs().sum(2) > 0).all().item<bool>());

  const json g =
      explain_lm(pt, "--method integrated_gradients --text '[BOS] a dog' --max-new-tokens 4",
                 "causal_lm_generate");
  ASSERT_TRUE(g.contains("seq_attr"));
  EXPECT_TRUE(g["generated"].get<bool>());
  EXPECT_EQ(g["target_ids"].get<std::vector<int64_t>>(), cont);
  EXPECT_EQ(g["token_attr"][0].size(), cont.size());
}

}  // namespace
