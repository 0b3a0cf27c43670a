// WordPiece tokenisation and the word view of subword tokens: training and encoding known answers,
// collation (word ids, offsets, truncation, rationales), the SDK's word helpers, metrics that
// perturb and score whole words, perturbation methods that split a word's value over its tokens,
// and an end-to-end run with a WordPiece vocabulary.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analytic_models.h"
#include "attrib/batch.h"
#include "attrib/params.h"
#include "data/dataset.h"
#include "common/perturb.h"
#include "metric.h"
#include "runner.h"

namespace {

using attrib::TextExample;
using attrib::Vocab;
using attrib_test::expect_near;
using attrib_test::values;
using nlohmann::json;

// The Hugging Face course's WordPiece corpus: hug x10, pug x5, pun x12, bun x4, hugs x5.
std::vector<TextExample> course_corpus() {
  std::vector<TextExample> ex;
  const std::pair<const char*, int> words[] = {
      {"hug", 10}, {"pug", 5}, {"pun", 12}, {"bun", 4}, {"hugs", 5}};
  for (const auto& [w, n] : words)
    for (int i = 0; i < n; ++i) ex.push_back({std::string(w) + std::to_string(i), {w}, 0, {}});
  return ex;
}

std::vector<std::string> pieces(const Vocab& v, const std::string& word) {
  std::vector<int64_t> ids;
  v.encode(word, ids);
  std::vector<std::string> out;
  for (int64_t id : ids) out.push_back(v.tokens()[id]);
  return out;
}

TEST(WordPiece, TrainsTheHandComputedMerges) {
  // Alphabet in first-seen order over the sorted words (bun, hug, hugs, pug, pun). Counts:
  // h 15, ##u 36, ##g 20, ##s 5, p 17, ##n 16, b 4. Merge 1: (##g, ##s) scores 5 / (20 * 5) =
  // 1/20, every other pair 1/36. Merge 2: all pairs tie at 1/36; the smallest merged text wins:
  // ##ug (from ##u ##g). Merge 3: (##u, ##gs), (##u, ##n) and (b, ##u) tie at 1/21 above
  // (h, ##ug) 10/225; smallest text: ##ugs.
  const Vocab v = Vocab::build_wordpiece(course_corpus(), 3 + 7 + 3, 1);
  const std::vector<std::string> want = {"<pad>", "<unk>", "<mask>", "b",    "##u",  "##n",  "h",
                                         "##g",   "##s",   "p",      "##gs", "##ug", "##ugs"};
  EXPECT_EQ(v.tokens(), want);
  EXPECT_EQ(v.kind(), Vocab::Kind::kWordPiece);
  EXPECT_EQ(v.kind_name(), "wordpiece");
  // Greedy longest-match-first.
  EXPECT_EQ(pieces(v, "hugs"), (std::vector<std::string>{"h", "##ugs"}));
  EXPECT_EQ(pieces(v, "bugs"), (std::vector<std::string>{"b", "##ugs"}));
  EXPECT_EQ(pieces(v, "hun"), (std::vector<std::string>{"h", "##u", "##n"}));
  // A character never seen makes the whole word one <unk> (BERT).
  EXPECT_EQ(pieces(v, "mug"), (std::vector<std::string>{"<unk>"}));
  EXPECT_EQ(pieces(v, "hugz"), (std::vector<std::string>{"<unk>"}));
}

TEST(WordPiece, MinimumPairCountAndSizeStopTraining) {
  // (##g, ##s) occurs 5 times: with min_pair_freq 6 the first merge is ##ug (15 occurrences).
  const Vocab v = Vocab::build_wordpiece(course_corpus(), 3 + 7 + 1, 6);
  EXPECT_EQ(v.tokens().back(), "##ug");
  EXPECT_EQ(v.size(), 11);
  // A size below the alphabet keeps the alphabet and merges nothing.
  EXPECT_EQ(Vocab::build_wordpiece(course_corpus(), 5, 1).size(), 10);
  // Every word merged whole when the budget allows, and then training stops.
  const Vocab all = Vocab::build_wordpiece(course_corpus(), 1000, 1);
  for (const char* w : {"hug", "pug", "pun", "bun", "hugs"})
    EXPECT_EQ(pieces(all, w), std::vector<std::string>{w}) << w;
}

TEST(WordPiece, DeterministicAndUtf8Aware) {
  std::vector<TextExample> ex = {{"a", {"café", "cafés", "naïve"}, 0, {}},
                                 {"b", {"café", "naïvely"}, 1, {}}};
  const Vocab v1 = Vocab::build_wordpiece(ex, 40, 1), v2 = Vocab::build_wordpiece(ex, 40, 1);
  EXPECT_EQ(v1.tokens(), v2.tokens());
  // Multi-byte characters are symbols of their own, never split.
  for (const auto& t : v1.tokens()) EXPECT_NE(t, "\xc3") << "a lone UTF-8 lead byte";
  std::vector<int64_t> ids;
  std::vector<std::pair<int64_t, int64_t>> spans;
  v1.encode("naïvely", ids, &spans);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(spans.front().first, 0);
  EXPECT_EQ(spans.back().second, static_cast<int64_t>(std::string("naïvely").size()));
  for (size_t k = 1; k < spans.size(); ++k) EXPECT_EQ(spans[k].first, spans[k - 1].second);
  EXPECT_THROW(Vocab::kind_from_name("bpe"), attrib::Error);
}

TEST(WordPiece, CollateKeepsWordsWholeAndAlignsRationales) {
  const Vocab v = Vocab::build_wordpiece(course_corpus(), 13, 1);
  // hugs -> h ##ugs; pun -> p ##u ##n; bun -> b ##u ##n.
  std::vector<TextExample> ex = {{"x", {"hugs", "pun", "bun"}, 1, {0, 1, 0}},
                                 {"y", {"hun"}, 0, {}}};
  attrib::Batch b = attrib::collate_text(ex, 0, 2, v, 6);
  // max_len 6: hugs (2) + pun (3) fit, bun (3) would not: cut at the word boundary.
  ASSERT_EQ(b.inputs.size(1), 5);
  EXPECT_EQ(values(b.word_ids[0]), (std::vector<double>{0, 0, 1, 1, 1}));
  EXPECT_EQ(values(b.word_ids[1]), (std::vector<double>{0, 0, 0, -1, -1}));
  EXPECT_EQ(values(b.attention_mask[1]), (std::vector<double>{1, 1, 1, 0, 0}));
  std::vector<double> want_ids;
  for (const char* t : {"h", "##ugs", "p", "##u", "##n"})
    want_ids.push_back(static_cast<double>(v.id(t)));
  EXPECT_EQ(values(b.inputs[0]), want_ids);
  // Character offsets in "hugs pun bun".
  EXPECT_EQ(values(b.offsets[0].select(1, 0)), (std::vector<double>{0, 1, 5, 6, 7}));
  EXPECT_EQ(values(b.offsets[0].select(1, 1)), (std::vector<double>{1, 4, 6, 7, 8}));
  // Every token of a marked word carries the rationale.
  const attrib::Annotations a = attrib::collate_rationales(ex, 0, 2, b);
  EXPECT_EQ(values(a.mask[0]), (std::vector<double>{0, 0, 1, 1, 1}));
  EXPECT_TRUE(a.present[0].item<bool>());
  EXPECT_FALSE(a.present[1].item<bool>());
  // A first word longer than max_len keeps its first max_len tokens.
  std::vector<TextExample> one = {{"z", {"hun", "pun"}, 0, {}}};
  EXPECT_EQ(values(attrib::collate_text(one, 0, 1, v, 2).word_ids[0]), (std::vector<double>{0, 0}));
  // The word vocabulary collates one token per word, as before.
  const attrib::Batch w = attrib::collate_text(ex, 0, 1, Vocab::build(ex, 1), 128);
  EXPECT_EQ(values(w.word_ids[0]), (std::vector<double>{0, 1, 2}));
}

TEST(WordPiece, StructuralTokensAreWholeAndNeverFeatures) {
  // premise [SEP] hypothesis, as the ERASER reader builds e-SNLI instances.
  std::vector<TextExample> ex = {{"p", {"hugs", "[SEP]", "pun"}, 0, {1, 0, 1}, {0, 1, 0}}};
  for (const Vocab& v : {Vocab::build(ex, 1), Vocab::build_wordpiece(ex, 20, 1)}) {
    SCOPED_TRACE(v.kind_name());
    ASSERT_GE(v.id("[SEP]"), 3) << "the separator is one vocabulary entry";
    const attrib::Batch b = attrib::collate_text(ex, 0, 1, v, 64);
    const std::vector<double> words = values(b.word_ids[0]);
    const std::vector<double> ids = values(b.inputs[0]);
    // Exactly one position is the separator: whole, word id -1, and no rationale there.
    int64_t sep = -1;
    for (size_t t = 0; t < ids.size(); ++t)
      if (ids[t] == v.id("[SEP]")) sep = static_cast<int64_t>(t);
    ASSERT_GE(sep, 0);
    EXPECT_EQ(words[sep], -1);
    EXPECT_EQ(std::count(words.begin(), words.end(), -1.0), 1);
    EXPECT_EQ(words.back(), 2);  // the word after it keeps its index
    const attrib::Annotations a = attrib::collate_rationales(ex, 0, 1, b);
    EXPECT_EQ(a.mask[0][sep].item<float>(), 0.0f);
    // Two features (the words), never the separator.
    EXPECT_EQ(attrib::perturb::features(b, b.inputs.size(1), 0).size(), 2u);
  }
}

TEST(WordPiece, SdkWordHelpers) {
  // [CLS] w0 w0 w1 w2 w2 w2 [SEP] PAD
  const at::Tensor w = at::tensor({-1, 0, 0, 1, 2, 2, 2, -1, -1}, at::kLong).view({1, -1});
  EXPECT_EQ(values(attrib::word_starts(w)), (std::vector<double>{0, 1, 0, 1, 1, 0, 0, 0, 0}));
  const at::Tensor s = at::tensor({9.f, 1.f, 2.f, 4.f, 1.f, -3.f, 0.5f, 7.f, 7.f}).view({1, -1});
  expect_near(attrib::sum_to_word_starts(s, w), {0, 3, 0, 4, -1.5, 0, 0, 0, 0}, 1e-6);
  expect_near(attrib::word_token_share(w), {0, 0.5, 0.5, 1, 1. / 3, 1. / 3, 1. / 3, 0, 0}, 1e-12);
  EXPECT_THROW(attrib::word_starts(at::zeros({3}, at::kLong)), attrib::Error);
}

// logit_c = sum over real tokens of W[c, id]: additive, so a word's occlusion / Shapley value is
// the sum of its tokens' weights. Ids: 0 pad, 1 unk, 2 mask (weight 0), 3.. pieces.
class BagOfTokens : public attrib::ModelAdapter {
 public:
  BagOfTokens() {
    info_.name = "bag_of_tokens";
    info_.modality = attrib::Modality::kText;
    info_.num_classes = 2;
    info_.capabilities = ATTRIB_CAP_FORWARD;
    info_.pad_id = 0;
    info_.unk_id = 1;
    info_.mask_id = 2;
    w_ = at::tensor(
             {0.f, 0.f, 0.f, 1.f, 2.f, -4.f, 0.5f, 3.f, 0.f, 0.f, 0.f, -1.f, 1.f, 1.f, 2.f, 0.f})
             .view({2, 8});
  }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask) override {
    return (w_.t().index_select(0, ids.reshape(-1)).view({ids.size(0), ids.size(1), 2}) *
            mask.to(at::kFloat).unsqueeze(2))
        .sum(1);
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }

 private:
  attrib::ModelInfo info_;
  at::Tensor w_;
};

// Words: {3, 4} {5} {6, 7, 3}; class-0 weights 1, 2 | -4 | 0.5, 3, 1.
attrib::Batch subword_batch() {
  attrib::Batch b;
  b.modality = attrib::Modality::kText;
  b.ids = {"s"};
  b.inputs = at::tensor({3, 4, 5, 6, 7, 3}, at::kLong).view({1, -1});
  b.attention_mask = at::ones({1, 6}, at::kLong);
  b.word_ids = at::tensor({0, 0, 1, 2, 2, 2}, at::kLong).view({1, -1});
  b.labels = at::tensor({0}, at::kLong);
  return b;
}

TEST(WordPiece, PerturbationMethodsTreatWordsAsFeatures) {
  BagOfTokens model;
  const attrib::Batch b = subword_batch();
  const at::Tensor target = at::tensor({0}, at::kLong);
  // Word values 3, -4, 4.5, split evenly over the tokens; summed back by the harness.
  const std::vector<double> tokens = {1.5, 1.5, -4, 1.5, 1.5, 1.5};
  const std::vector<double> words = {3, 0, -4, 4.5, 0, 0};
  for (const char* m : {"occlusion", "feature_ablation", "shapley_exact"}) {
    const attrib::Explanation e = attrib_test::run(m, {}, model, b, target);
    expect_near(e.attributions, tokens, 1e-5);
    expect_near(attrib::feature_scores(e.attributions, b, "sum"), words, 1e-5);
  }
  // Occlusion rows: the unperturbed input and one per word.
  EXPECT_EQ(attrib_test::run("occlusion", {}, model, b, target).forward_rows, 1 + 3);
}

TEST(WordPiece, MetricsRankAndReplaceWholeWords) {
  BagOfTokens model;
  const attrib::Batch b = subword_batch();
  const at::Tensor scores = at::tensor({3.f, 0.f, -4.f, 4.5f, 0.f, 0.f}).view({1, -1});
  EXPECT_EQ(attrib::perturb::features(b, 6, 0), (std::vector<int64_t>{0, 2, 3}));
  // Replacing the word at position 3 replaces all three of its tokens.
  const auto [ids, mask] =
      attrib::perturb::replace(b, b.inputs, 0, {3}, "mask", model.info(), "test");
  EXPECT_EQ(values(ids), (std::vector<double>{3, 4, 5, 2, 2, 2}));
  const auto [kept, kept_mask] =
      attrib::perturb::replace(b, b.inputs, 0, {0}, "delete", model.info(), "test");
  EXPECT_EQ(values(kept), (std::vector<double>{5, 6, 7, 3, 0, 0}));
  EXPECT_EQ(values(kept_mask), (std::vector<double>{1, 1, 1, 1, 0, 0}));

  // Deletion (logit of class 0, mask substrate, one word per step, trapezoid over the fraction
  // removed): removing the words by score (4.5, then 3, then -4) from f = 3.5 gives the curve
  // 3.5, -1, -4, 0.
  const at::Tensor targets = at::tensor({0}, at::kLong);
  attrib::MetricInput in{model, b, scores, targets, nullptr};
  const attrib::MetricSpec& spec = attrib::find_metric("deletion");
  const json params = attrib::resolve_params(spec.params,
                                             {{"output", "logit"},
                                              {"substrate", "mask"},
                                              {"step_fraction", 0.3},
                                              {"auc", "trapezoid_fraction"},
                                              {"tie_break", "index"}},
                                             "deletion");
  const std::vector<double> got = spec.create(params)->score(in);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NEAR(got[0], ((3.5 - 1.0) / 2 + (-1.0 - 4.0) / 2 + (-4.0 + 0.0) / 2) / 3, 1e-6);
}

struct Cmd {
  int code;
  std::string out;
};

Cmd attrib_cli(const std::string& args, const std::string& tag) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(ATTRIB_TEST_TMP) / "wordpiece";
  fs::create_directories(dir);
  const fs::path out = dir / (tag + ".out");
  const std::string cmd = "ATTRIB_CACHE_DIR='" + (dir / "cache").string() + "' '" ATTRIB_BIN "' " +
                          args + " >'" + out.string() + "' 2>'" + (dir / (tag + ".err")).string() +
                          "'";
  const int status = std::system(cmd.c_str());
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

TEST(WordPiece, SuiteRunsOnSubwordTokensAndScoresWords) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(ATTRIB_TEST_TMP) / "wordpiece";
  fs::create_directories(dir);
  const json suite = json::parse(R"JSON({
    "schema_version": 1, "name": "wp", "seed": 1, "batch_cap": 64, "explain_batch": 8,
    "statistics": {"bootstrap_resamples": 200},
    "datasets": [{"name": "planted", "spec": "synthetic:planted_text",
                  "params": {"n_train": 600, "n_val": 100, "n_test": 40, "min_len": 6,
                             "max_len": 12, "filler_words": 200},
                  "max_examples": 32, "max_len": 48, "tokenizer": "wordpiece",
                  "vocab_size": 200}],
    "models": [{"name": "tiny", "plugin": "text_transformer",
                "params": {"d_model": 32, "n_heads": 2, "n_layers": 1, "d_ff": 64},
                "train": {"epochs": 12, "learning_rate": 0.005, "patience": 3}}],
    "methods": [{"plugin": "random"}, {"plugin": "integrated_gradients", "params": {"n_steps": 16}},
                {"plugin": "occlusion"}],
    "metrics": [{"metric": "token_f1"}, {"metric": "deletion"}]
  })JSON");
  const fs::path path = dir / "suite.json", out = dir / "run";
  std::ofstream(path) << suite.dump(2);
  fs::remove_all(out);
  const Cmd r =
      attrib_cli("run '" + path.string() + "' --quiet --out '" + out.string() + "'", "run");
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream in(out / "results.json");
  const json doc = json::parse(in);
  EXPECT_EQ(doc["datasets"][0]["tokenizer"], "wordpiece");
  EXPECT_GE(doc["models"][0]["accuracy"]["value"].get<double>(), 0.9);
  std::map<std::string, double> f1;
  for (const auto& row : doc["rows"]) {
    ASSERT_FALSE(row.contains("error") && row["error"].is_string() && row["error"] != "")
        << row.dump();
    if (row["metric"] != "token_f1") continue;
    double sum = 0;
    int n = 0;
    for (const auto& v : row["scores"])
      if (v.is_number()) sum += v.get<double>(), ++n;
    f1[row["method"]] = n ? sum / n : 0.0;
  }
  // Word-level plausibility: the subword tokens of an evidence word count once.
  EXPECT_GT(f1["integrated_gradients"], f1["random"] + 0.3) << doc["rows"].dump();
  EXPECT_GT(f1["occlusion"], f1["random"] + 0.3);

  // The checkpoint carries its tokenizer: explain splits words into the model's pieces and
  // reports one score per word beside the subword scores.
  const std::string ckpt = doc["models"][0]["checkpoint"];
  const json& ds = suite["datasets"][0];
  const attrib::Dataset data = attrib::load_dataset(
      "planted", ds["spec"],
      attrib::resolve_params(attrib::dataset_params_schema(ds["spec"]), ds["params"], "params"));
  // Seven of a test example's words (explain keeps the words that fit the model's max_len).
  std::string text;
  const size_t n = std::min<size_t>(7, data.test[0].tokens.size());
  for (size_t k = 0; k < n; ++k) text += (k ? " " : "") + data.test[0].tokens[k];
  const Cmd e = attrib_cli("explain --model 'torchscript:" + ckpt +
                               "' --method occlusion --text '" + text + "' --target 0 --json",
                           "explain");
  ASSERT_EQ(e.code, 0) << e.out;
  const json ex = json::parse(e.out);
  const size_t words = ex["tokens"].size();
  EXPECT_GE(words, 1u);
  EXPECT_LE(words, n);
  ASSERT_EQ(ex["token_scores"][0].size(), words);
  ASSERT_TRUE(ex.contains("subword_tokens")) << ex.dump();
  EXPECT_GT(ex["subword_tokens"].size(), words);
  double piece_sum = 0, word_sum = 0;
  for (const auto& s : ex["subword_scores"][0]) piece_sum += s.get<double>();
  for (const auto& s : ex["token_scores"][0]) word_sum += s.get<double>();
  EXPECT_NEAR(piece_sum, word_sum, 1e-5);
}

}  // namespace
