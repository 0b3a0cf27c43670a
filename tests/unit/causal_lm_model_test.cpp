// The built-in `causal_lm` model plugin (models/causal_lm): its outputs are the answers'
// log-probabilities under the full next-token distribution, it is causal and padding-independent,
// it trains as a language model, and its saved archive is a generative model for CausalLmTarget
// whose numbers agree with the plugin's own.
#include <gtest/gtest.h>

#include "generation/causal_lm.h"
#include "model_checks.h"

namespace {

using model_checks::logits_of;
using model_fixtures::synthetic_batch;
using model_fixtures::synthetic_vocab;
using nlohmann::json;

constexpr uint64_t kCaps = ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_EMBEDDINGS |
                           ATTRIB_CAP_ATTENTIONS | ATTRIB_CAP_LAYERS | ATTRIB_CAP_TRAINABLE;

std::shared_ptr<attrib::ModelAdapter> lm(uint64_t seed = 0) {
  return model_checks::model("causal_lm", seed, {{"d_model", 32}, {"n_heads", 2}, {"d_ff", 64}});
}

at::Tensor lm_logits(attrib::ModelAdapter& m, const at::Tensor& ids, const at::Tensor& mask) {
  auto& module = dynamic_cast<attrib::TorchScriptModel&>(m).module();
  at::NoGradGuard no_grad;
  return module.get_method("lm_logits")({ids, mask}).toTensor();
}

TEST(CausalLmModel, AnswersAreAppendedToTheVocabularyAndDeclared) {
  auto m = lm();
  const attrib::ModelInfo& info = m->info();
  EXPECT_EQ(info.capabilities, kCaps) << info.capability_notes.dump();
  EXPECT_TRUE(info.capability_notes.empty()) << info.capability_notes.dump();
  std::vector<std::string> vocab = synthetic_vocab();
  vocab.push_back("absent");
  vocab.push_back("present");
  EXPECT_EQ(info.vocab, vocab);
  EXPECT_EQ(info.num_classes, 2);
  EXPECT_EQ(info.metadata.at("answer_ids"), json({30, 31}));
  EXPECT_TRUE(info.metadata.at("generative").get<bool>());
  // An answer already in the vocabulary keeps its id.
  auto again = model_checks::model("causal_lm", 0, {{"class_names", {"good", "w3"}}});
  EXPECT_EQ(again->info().metadata.at("answer_ids"), json({3, 7}));
  EXPECT_EQ(again->info().vocab, synthetic_vocab());
}

// Class c's logit is log p(answer_c) from the next-token distribution at the last real token.
TEST(CausalLmModel, LogitsAreTheAnswersLogProbabilitiesAtTheLastToken) {
  auto m = lm(3);
  attrib::Batch b = synthetic_batch(6, 4);
  const at::Tensor out = logits_of(*m, b);
  const at::Tensor full = lm_logits(*m, b.inputs, b.attention_mask).log_softmax(2);
  for (int64_t i = 0; i < b.size(); ++i) {
    const int64_t last = b.attention_mask[i].sum().item<int64_t>() - 1;
    EXPECT_NEAR(out[i][0].item<double>(), full[i][last][30].item<double>(), 1e-6);
    EXPECT_NEAR(out[i][1].item<double>(), full[i][last][31].item<double>(), 1e-6);
  }
}

// A token changes no earlier position's prediction; padding changes nothing.
TEST(CausalLmModel, CausalAndPaddingIndependent) {
  auto m = lm(4);
  attrib::Batch b = synthetic_batch(4, 5, 10);
  b.attention_mask.fill_(1);
  const at::Tensor before = lm_logits(*m, b.inputs, b.attention_mask);
  at::Tensor changed = b.inputs.clone();
  changed.select(1, 6).fill_(9);
  const at::Tensor after = lm_logits(*m, changed, b.attention_mask);
  EXPECT_TRUE(at::allclose(after.narrow(1, 0, 6), before.narrow(1, 0, 6), 1e-5, 1e-6));
  EXPECT_FALSE(at::allclose(after.narrow(1, 6, 4), before.narrow(1, 6, 4), 1e-5, 1e-6));
  // Row 0 alone, cut to 7 tokens, against the batch with row 0 right-padded to 10.
  at::Tensor mask = b.attention_mask.clone();
  mask[0].narrow(0, 7, 3).fill_(0);
  const at::Tensor batch = logits_of(*m, b.inputs, mask);
  const at::Tensor alone =
      logits_of(*m, b.inputs.narrow(0, 0, 1).narrow(1, 0, 7), mask.narrow(0, 0, 1).narrow(1, 0, 7));
  EXPECT_TRUE(at::allclose(alone, batch.narrow(0, 0, 1), 1e-5, 1e-6));
}

TEST(CausalLmModel, SameSeedSameWeightsAndLogits) {
  model_checks::same_seed_same_weights("causal_lm");
}

TEST(CausalLmModel, CloneHasIndependentParameters) { model_checks::clone_independent("causal_lm"); }

// Trained with the next-token loss over prompt + answer, it learns the planted task.
TEST(CausalLmModel, TrainsAsALanguageModel) {
  model_checks::TrainingCheck c;
  c.n_train = 1000;
  c.n_val = 200;
  c.n_test = 300;
  c.epochs = 30;
  c.patience = 5;
  c.min_accuracy = 0.95;
  c.max_seconds = 120.0;
  model_checks::trains_on_synthetic_task("causal_lm", c);
}

// Saved, the archive is a causal LM for `attrib explain --model torchscript:PATH`: the target
// token's log-probability through CausalLmTarget is the plugin's class logit, and the greedy
// continuation is the argmax of lm_logits.
TEST(CausalLmModel, SavedArchiveIsAGenerativeModelThatAgreesWithThePlugin) {
  auto m = lm(6);
  const std::string path = model_checks::checks_path("causal_lm.pt");
  m->save(path);
  auto target = attrib::load_causal_lm(path);
  ASSERT_NE(target, nullptr);
  EXPECT_EQ(target->info().vocab, m->info().vocab);
  attrib::Batch b = synthetic_batch(5, 7);
  const at::Tensor classes = logits_of(*m, b);
  for (int64_t c = 0; c < 2; ++c) {
    target->set_target({30 + c});
    at::NoGradGuard no_grad;
    const at::Tensor scores = target->forward(b.inputs, b.attention_mask);
    EXPECT_TRUE(at::allclose(scores.select(1, 1), classes.select(1, c), 1e-5, 1e-6)) << c;
    EXPECT_TRUE(at::equal(scores.select(1, 0), scores.select(1, 1)));  // one token: total = token
  }
  const std::vector<int64_t> prompt = {4, 5, 6, 3};
  const std::vector<int64_t> out = target->generate(prompt, 3);
  ASSERT_EQ(out.size(), 3u);
  const at::Tensor ids = at::tensor(prompt, at::kLong).unsqueeze(0);
  EXPECT_EQ(out[0], lm_logits(*m, ids, at::ones_like(ids))[0][-1].argmax().item<int64_t>());
}

}  // namespace
