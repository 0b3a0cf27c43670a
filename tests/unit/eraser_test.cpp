// Known-answer tests of ERASER comprehensiveness and sufficiency (METRICS.md §1.3), computed by
// hand on linear models; and of the eraser:DIR reader on hand-made folders laid out as each
// published ERASER dataset is (movies, e-SNLI, boolq, multirc, fever, evidence_inference, cos_e).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "attrib/error.h"
#include "attrib/params.h"
#include "data/dataset.h"
#include "metric.h"
#include "test_files.h"

namespace {

using nlohmann::json;

// Dense: logits = [w . x, 0]. Zeroing feature i lowers the class-0 logit by w_i x_i.
class EraserLinear : public attrib::ModelAdapter {
 public:
  explicit EraserLinear(std::vector<float> w) : w_(at::tensor(w)) {
    info_.name = "eraser_linear";
    info_.num_classes = 2;
    info_.capabilities = ATTRIB_CAP_FORWARD;
  }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& x, const at::Tensor&) override {
    max_rows_seen = std::max<int64_t>(max_rows_seen, x.size(0));
    at::Tensor z = (x.to(at::kFloat) * w_).sum(1, true);
    return at::cat({z, at::zeros_like(z)}, 1);
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }
  int64_t max_rows_seen = 0;

 private:
  attrib::ModelInfo info_;
  at::Tensor w_;
};

// Text: logits = [sum over attended tokens of w[id], 0] (a bag of words).
class EraserBag : public attrib::ModelAdapter {
 public:
  explicit EraserBag(std::vector<float> w) : w_(at::tensor(w)) {
    info_.name = "eraser_bag";
    info_.num_classes = 2;
    info_.capabilities = ATTRIB_CAP_FORWARD;
    info_.unk_id = 0;
    info_.pad_id = 1;
  }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& x, const at::Tensor& mask) override {
    at::Tensor v = w_.index_select(0, x.reshape({-1})).view(x.sizes());
    at::Tensor z = (v * mask.to(at::kFloat)).sum(1, true);
    return at::cat({z, at::zeros_like(z)}, 1);
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }

 private:
  attrib::ModelInfo info_;
  at::Tensor w_;
};

std::vector<double> run(const std::string& name, json params, attrib::ModelAdapter& model,
                        const attrib::Batch& b, const at::Tensor& scores, int64_t max_rows = 256) {
  const auto& spec = attrib::find_metric(name);
  params = attrib::resolve_params(spec.params, params, "params");
  auto metric = spec.create(params);
  at::Tensor targets = at::zeros({b.size()}, at::kLong);
  attrib::MetricInput in{model, b, scores, targets, nullptr, 0, max_rows};
  auto out = metric->score(in);
  EXPECT_TRUE(metric->info().contains("rounding"));
  return out;
}

attrib::Batch dense(const at::Tensor& x) {
  attrib::Batch b;
  b.inputs = x;
  for (int64_t i = 0; i < x.size(0); ++i) b.ids.push_back("ex" + std::to_string(i));
  b.labels = at::zeros({x.size(0)}, at::kLong);
  return b;
}

const json kLogit = {{"output", "logit"},
                     {"target", "explained"},
                     {"substrate", "zero"},
                     {"tie_break", "index"},
                     {"bins", {0.25, 0.5}}};

TEST(Eraser, Registered) {
  EXPECT_EQ(attrib::find_metric("comprehensiveness").direction, +1);
  EXPECT_EQ(attrib::find_metric("sufficiency").direction, -1);
  EXPECT_EQ(attrib::find_metric("comprehensiveness").family, "faithfulness");
}

TEST(Eraser, LinearModelBins25And50) {
  EraserLinear model({4, 3, 2, 1});
  auto b = dense(at::ones({1, 4}));
  at::Tensor a = at::tensor({4.0f, 3.0f, 2.0f, 1.0f}).view({1, -1});
  // f(x) = 10; k = 1, 2. Removing {0} -> 6, {0,1} -> 3: comp = ((10-6) + (10-3)) / 2 = 5.5.
  EXPECT_NEAR(run("comprehensiveness", kLogit, model, b, a)[0], 5.5, 1e-12);
  // Keeping {0} -> 4, {0,1} -> 7: suff = ((10-4) + (10-7)) / 2 = 4.5.
  EXPECT_NEAR(run("sufficiency", kLogit, model, b, a)[0], 4.5, 1e-12);
  // Reversed ranking: remove {3} -> 9, {3,2} -> 7: comp = (1 + 3) / 2 = 2.
  EXPECT_NEAR(run("comprehensiveness", kLogit, model, b, -a)[0], 2.0, 1e-12);
  // Keep {3} -> 1, {3,2} -> 3: suff = (9 + 7) / 2 = 8.
  EXPECT_NEAR(run("sufficiency", kLogit, model, b, -a)[0], 8.0, 1e-12);
}

TEST(Eraser, RoundingDefaultBinsAndDuplicates) {
  EraserLinear model({5, 4, 3, 2, 1});
  auto b = dense(at::ones({1, 5}));
  at::Tensor a = at::tensor({5.0f, 4.0f, 3.0f, 2.0f, 1.0f}).view({1, -1});
  json p = kLogit;
  p["bins"] = {0.3};                                                     // 0.3 * 5 = 1.5
  EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], 9.0, 1e-12);  // ceil: k = 2
  p["rounding"] = "floor";
  EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], 5.0, 1e-12);  // k = 1
  p["rounding"] = "round";
  EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], 9.0, 1e-12);  // k = 2
  // floor(0.1 * 5) = 0: the only bin is skipped, nothing is left -> NaN.
  p["rounding"] = "floor";
  p["bins"] = {0.1};
  EXPECT_TRUE(std::isnan(run("comprehensiveness", p, model, b, a)[0]));
  // Exact products are not pushed up by float error: ceil(0.2 * 5) = 1, not 2.
  p["rounding"] = "ceil";
  p["bins"] = {0.2};
  EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], 5.0, 1e-12);

  // Default bins {1,5,10,20,50}% with n = 4 and ceil: k = 1,1,1,1,2.
  EraserLinear m4({4, 3, 2, 1});
  auto b4 = dense(at::ones({1, 4}));
  at::Tensor a4 = at::tensor({4.0f, 3.0f, 2.0f, 1.0f}).view({1, -1});
  json q = kLogit;
  q.erase("bins");
  EXPECT_NEAR(run("comprehensiveness", q, m4, b4, a4)[0], (4 * 4.0 + 7) / 5, 1e-12);
  // ferret-style de-duplication keeps k = 1 and k = 2 only.
  q["skip_duplicates"] = true;
  EXPECT_NEAR(run("comprehensiveness", q, m4, b4, a4)[0], 5.5, 1e-12);
}

TEST(Eraser, EraserProfileKeepsEmptyBinsInTheMean) {
  // ERASER's profile: bins {1, 5, 10, 20, 50}%, k = floor(fraction * n); with n = 4 that is
  // k = 0, 0, 0, 0, 2. metrics.py averages all 5 bins: comprehensiveness adds 0 for each empty
  // rationale; sufficiency keeps nothing (f = 0) for them.
  EraserLinear m4({4, 3, 2, 1});
  auto b4 = dense(at::ones({1, 4}));
  at::Tensor a4 = at::tensor({4.0f, 3.0f, 2.0f, 1.0f}).view({1, -1});
  const auto& spec = attrib::find_metric("comprehensiveness");
  json q = attrib::find_profile(spec, "eraser").params;
  q["output"] = "logit";  // the arithmetic is exact on logits: f(x) = 10
  q["substrate"] = "zero";
  // comp: k = 2 removes {0, 1} -> 3: (0 + 0 + 0 + 0 + 7) / 5.
  EXPECT_NEAR(run("comprehensiveness", q, m4, b4, a4)[0], 7.0 / 5, 1e-12);
  // suff: k = 0 keeps nothing -> 0 (x4), k = 2 keeps {0, 1} -> 7: (4 * 10 + 3) / 5.
  EXPECT_NEAR(run("sufficiency", q, m4, b4, a4)[0], 43.0 / 5, 1e-12);
  // The default skips empty bins instead: with floor only k = 2 is left.
  q["zero_bins"] = "skip";
  EXPECT_NEAR(run("comprehensiveness", q, m4, b4, a4)[0], 7.0, 1e-12);
}

TEST(Eraser, ProbabilityOfPredictedClassByDefault) {
  EraserLinear model({1, 1});
  at::Tensor a = at::tensor({2.0f, 1.0f}).view({1, -1});
  const json p = {{"bins", {0.5}}};
  auto sig = [](double z) { return 1 / (1 + std::exp(-z)); };
  // x = (1, 2): predicted class 0, p = sig(3). Removing feature 0 -> sig(2); keeping it -> sig(1).
  auto b = dense(at::tensor({1.0f, 2.0f}).view({1, -1}));
  EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], sig(3) - sig(2), 1e-9);
  EXPECT_NEAR(run("sufficiency", p, model, b, a)[0], sig(3) - sig(1), 1e-9);
  // x = (-1, -2): the prediction is class 1 (the explained target 0 is ignored):
  // p_1 = 1 - sig(-3) = sig(3), and after removing feature 0, 1 - sig(-2) = sig(2).
  auto c = dense(at::tensor({-1.0f, -2.0f}).view({1, -1}));
  EXPECT_NEAR(run("comprehensiveness", p, model, c, a)[0], sig(3) - sig(2), 1e-9);
}

TEST(Eraser, DenseMeanSubstrate) {
  EraserLinear model({1, 1, 1, 1});
  auto b = dense(at::tensor({1.0f, 2.0f, 3.0f, 6.0f}).view({1, -1}));
  at::Tensor a = at::tensor({4.0f, 3.0f, 2.0f, 1.0f}).view({1, -1});
  json p = kLogit;
  p["substrate"] = "mean";
  p["bins"] = {0.25};
  // Feature 0 (x = 1) becomes the mean 3: the logit rises from 12 to 14, comp = -2.
  EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], -2.0, 1e-12);
}

TEST(Eraser, TextSubstratesKeepSpecialTokens) {
  // Vocabulary weights: unk 0, pad 1, [CLS] 2 (weight 100, not a feature), words 3..6.
  EraserBag model({0, 0, 100, 1, 2, 3, 4});
  attrib::Batch b;
  b.modality = attrib::Modality::kText;
  b.ids = {"t0"};
  b.inputs = at::tensor({2, 3, 4, 5, 1}, at::kLong).view({1, -1});
  b.attention_mask = at::tensor({1, 1, 1, 1, 0}, at::kLong).view({1, -1});
  b.word_ids = at::tensor({-1, 0, 1, 2, -1}, at::kLong).view({1, -1});
  b.labels = at::zeros({1}, at::kLong);
  at::Tensor a = at::tensor({0.0f, 1.0f, 3.0f, 2.0f, 0.0f}).view({1, -1});
  json p = {{"output", "logit"}, {"target", "explained"}, {"bins", {0.3, 0.6}}};
  // n = 3, k = 1, 2; ranking: position 2 (w 2), 3 (w 3), 1 (w 1); f(x) = 106.
  for (const char* s : {"unk", "pad", "delete"}) {
    p["substrate"] = s;
    // Remove {2} -> 104, {2,3} -> 101: comp = (2 + 5) / 2.
    EXPECT_NEAR(run("comprehensiveness", p, model, b, a)[0], 3.5, 1e-9) << s;
    // Keep [CLS] + {2} -> 102, [CLS] + {2,3} -> 105: suff = (4 + 1) / 2.
    EXPECT_NEAR(run("sufficiency", p, model, b, a)[0], 2.5, 1e-9) << s;
  }
  p["substrate"] = "mask";
  EXPECT_THROW(run("comprehensiveness", p, model, b, a), attrib::Error);
  p["substrate"] = "zero";
  EXPECT_THROW(run("comprehensiveness", p, model, b, a), attrib::Error);
}

TEST(Eraser, BatchCapAndBatchInvariance) {
  EraserLinear model({4, 3, 2, 1});
  auto b = dense(at::rand({6, 4}));
  at::Tensor a = at::randn({6, 4});
  json p = kLogit;
  p.erase("bins");
  for (const char* name : {"comprehensiveness", "sufficiency"}) {
    model.max_rows_seen = 0;
    auto all = run(name, p, model, b, a, /*max_rows=*/4);
    EXPECT_LE(model.max_rows_seen, 4);
    for (int64_t i = 0; i < 6; ++i) {
      auto one = run(name, p, model, dense(b.inputs.slice(0, i, i + 1)), a.slice(0, i, i + 1));
      EXPECT_NEAR(all[i], one[0], 1e-6);
    }
  }
}

// ---- eraser:DIR reader ----------------------------------------------------------------------
// Each fixture copies the field shapes of the published files (rationale_benchmark/utils.py:
// Annotation and Evidence serialised by annotations_to_jsonl; documents one sentence per line).

namespace fs = std::filesystem;
using attrib_test::files::error_of;
using attrib_test::files::write;
using ::testing::HasSubstr;
using Tokens = std::vector<std::string>;

attrib::Dataset load_eraser(const fs::path& dir, const json& params = json::object(),
                            json* report = nullptr) {
  json local;
  return attrib::load_dataset_reported("d", "eraser:" + dir.string(), params,
                                       report ? report : &local);
}

const attrib::TextExample& example(const std::vector<attrib::TextExample>& split,
                                   const std::string& id) {
  for (const auto& e : split)
    if (e.id == id) return e;
  throw attrib::Error("no example " + id);
}

std::vector<float> bits(std::initializer_list<int> b) { return {b.begin(), b.end()}; }

// movies: docs/ files named by annotation_id, docids null, evidences one per group over several
// sentences (a blank line in a document is no sentence), an instance with no evidence at all.
// posR_001.txt's evidence has sentence offsets only (token offsets -1), which the reader accepts.
TEST(EraserReader, MoviesDocsFolderMultiLineDocuments) {
  const fs::path dir = attrib_test::files::fresh_dir("eraser_reader", "movies");
  write(dir / "docs" / "negR_000.txt",
        "bad film .\nthe plot  is dull .\n\nbut the cast is fine .\n");
  write(dir / "docs" / "posR_001.txt", "a great movie .\ngo see it .\n");
  write(dir / "docs" / "negR_002.txt", "meh .\n");
  write(
      dir / "train.jsonl",
      R"({"annotation_id": "negR_000.txt", "classification": "NEG", "docids": null, "evidences": [[{"docid": "negR_000.txt", "end_sentence": 1, "end_token": 2, "start_sentence": 0, "start_token": 0, "text": "bad film"}], [{"docid": "negR_000.txt", "end_sentence": 2, "end_token": 7, "start_sentence": 1, "start_token": 5, "text": "is dull"}], [{"docid": "negR_000.txt", "end_sentence": 3, "end_token": 14, "start_sentence": 2, "start_token": 12, "text": "fine ."}]], "query": "What is the sentiment of this review?", "query_type": null}
{"annotation_id": "posR_001.txt", "classification": "POS", "docids": null, "evidences": [[{"docid": "posR_001.txt", "end_sentence": 2, "end_token": -1, "start_sentence": 1, "start_token": -1, "text": "go see it ."}]], "query": "What is the sentiment of this review?", "query_type": null}
)");
  write(
      dir / "test.jsonl",
      R"({"annotation_id": "negR_002.txt", "classification": "NEG", "docids": null, "evidences": [], "query": "What is the sentiment of this review?", "query_type": null})"
      "\n");
  json report;
  const attrib::Dataset d = load_eraser(dir, json::object(), &report);
  EXPECT_EQ(d.class_names, (Tokens{"NEG", "POS"}));
  ASSERT_EQ(d.train.size(), 2u);
  const auto& neg = example(d.train, "negR_000.txt");
  EXPECT_EQ(neg.label, 0);
  EXPECT_EQ(neg.tokens, (Tokens{"bad", "film", ".", "the", "plot", "is", "dull", ".", "but", "the",
                                "cast", "is", "fine", "."}));
  EXPECT_EQ(neg.rationale, bits({1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1}));
  const auto& pos = example(d.train, "posR_001.txt");
  EXPECT_EQ(pos.label, 1);
  EXPECT_EQ(pos.tokens, (Tokens{"a", "great", "movie", ".", "go", "see", "it", "."}));
  EXPECT_EQ(pos.rationale, bits({0, 0, 0, 0, 1, 1, 1, 1}));
  ASSERT_EQ(d.test.size(), 1u);
  EXPECT_EQ(d.test[0].tokens, (Tokens{"meh", "."}));
  EXPECT_TRUE(d.test[0].rationale.empty());  // no evidence: not annotated (never all zeros)
  EXPECT_TRUE(d.val.empty());
  EXPECT_EQ(report["notes"]["with_query"], 3);
  EXPECT_EQ(report["notes"]["sentence_evidences"], 1);
  EXPECT_EQ(report["notes"].value("evidence_text_mismatch", 0), 0);
  EXPECT_FALSE(report["notes"].contains("multi_document"));
}

// e-SNLI: two documents per instance in docs.jsonl, "<id>_premise" and "<id>_hypothesis"; docids
// listed in either order, null or missing; evidences in both documents or none.
TEST(EraserReader, EsnliTwoDocumentsPremiseThenHypothesis) {
  const fs::path dir = attrib_test::files::fresh_dir("eraser_reader", "esnli");
  write(dir / "docs.jsonl", R"({"docid": "1.jpg#0r1e_premise", "document": "A man rides a horse ."}
{"docid": "1.jpg#0r1e_hypothesis", "document": "A person is outdoors ."}
{"docid": "2.jpg#1r1n_premise", "document": "Two dogs run ."}
{"docid": "2.jpg#1r1n_hypothesis", "document": "The dogs are happy ."}
{"docid": "3.jpg#2r1c_premise", "document": "A child sleeps ."}
{"docid": "3.jpg#2r1c_hypothesis", "document": "A child runs ."}
)");
  write(
      dir / "val.jsonl",
      R"({"annotation_id": "1.jpg#0r1e", "classification": "entailment", "docids": ["1.jpg#0r1e_hypothesis", "1.jpg#0r1e_premise"], "evidences": [[{"docid": "1.jpg#0r1e_premise", "end_sentence": -1, "end_token": 5, "start_sentence": -1, "start_token": 3, "text": "a horse"}, {"docid": "1.jpg#0r1e_hypothesis", "end_sentence": -1, "end_token": 4, "start_sentence": -1, "start_token": 3, "text": "outdoors"}]], "query": "What is the relationship between the premise and hypothesis?", "query_type": null}
{"annotation_id": "2.jpg#1r1n", "classification": "neutral", "docids": null, "evidences": [[{"docid": "2.jpg#1r1n_hypothesis", "end_sentence": -1, "end_token": 4, "start_sentence": -1, "start_token": 3, "text": "happy"}]], "query": "What is the relationship between the premise and hypothesis?", "query_type": null}
{"annotation_id": "3.jpg#2r1c", "classification": "contradiction", "evidences": [[]], "query": "What is the relationship between the premise and hypothesis?"}
)");
  json report;
  const attrib::Dataset d = load_eraser(dir, json::object(), &report);
  EXPECT_EQ(d.class_names, (Tokens{"contradiction", "entailment", "neutral"}));
  ASSERT_EQ(d.val.size(), 3u);
  const auto& e = example(d.val, "1.jpg#0r1e");
  EXPECT_EQ(e.label, 1);
  EXPECT_EQ(e.tokens, (Tokens{"A", "man", "rides", "a", "horse", ".", "[SEP]", "A", "person", "is",
                              "outdoors", "."}));
  EXPECT_EQ(e.rationale, bits({0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0}));
  // The separator is structural: fed to the model, never a feature.
  EXPECT_EQ(e.special, (std::vector<char>{0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0}));
  const auto& n = example(d.val, "2.jpg#1r1n");
  EXPECT_EQ(n.label, 2);
  EXPECT_EQ(n.tokens,
            (Tokens{"Two", "dogs", "run", ".", "[SEP]", "The", "dogs", "are", "happy", "."}));
  EXPECT_EQ(n.rationale, bits({0, 0, 0, 0, 0, 0, 0, 0, 1, 0}));
  const auto& c = example(d.val, "3.jpg#2r1c");
  EXPECT_EQ(c.label, 0);
  EXPECT_EQ(c.tokens, (Tokens{"A", "child", "sleeps", ".", "[SEP]", "A", "child", "runs", "."}));
  EXPECT_TRUE(c.rationale.empty());
  EXPECT_EQ(report["notes"]["multi_document"], 3);
  // The query after the documents: rationale 0 on it and its [SEP].
  const attrib::Dataset q = load_eraser(dir, {{"query", "append"}});
  const auto& qe = example(q.val, "1.jpg#0r1e");
  ASSERT_EQ(qe.tokens.size(), 12u + 1 + 9);
  EXPECT_EQ(qe.tokens[12], "[SEP]");
  EXPECT_EQ(qe.tokens[13], "What");
  ASSERT_EQ(qe.special.size(), qe.tokens.size());
  for (size_t t = 0; t < qe.tokens.size(); ++t)
    EXPECT_EQ(qe.special[t], t == 6 || t == 12 ? 1 : 0) << t;
  EXPECT_EQ(qe.rationale, bits({0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

// boolq: a Wikipedia passage in docs/, docids given, a question as the query, labels "True" /
// "False" (a boolean and an integer id, as some re-exports write them, read as Python's str()).
TEST(EraserReader, BoolqQueryAndDocids) {
  const fs::path dir = attrib_test::files::fresh_dir("eraser_reader", "boolq");
  write(dir / "docs" / "Persian_language_2",
        "Persian is also known as Farsi .\nIt is spoken in Iran .\n");
  write(
      dir / "test.jsonl",
      R"({"annotation_id": "-1003290556597046345", "classification": "True", "docids": ["Persian_language_2"], "evidences": [[{"docid": "Persian_language_2", "end_sentence": 1, "end_token": 6, "start_sentence": 0, "start_token": 4, "text": "as Farsi"}]], "query": "is persian and farsi the same language", "query_type": null}
{"annotation_id": 4221, "classification": false, "docids": ["Persian_language_2"], "evidences": [[{"docid": "Persian_language_2", "end_sentence": 2, "end_token": 12, "start_sentence": 1, "start_token": 11, "text": "Iran"}]], "query": "is persian spoken in spain", "query_type": null}
)");
  const attrib::Dataset d = load_eraser(dir);
  EXPECT_EQ(d.class_names, (Tokens{"False", "True"}));
  const Tokens doc{"Persian", "is", "also",   "known", "as",   "Farsi", ".",
                   "It",      "is", "spoken", "in",    "Iran", "."};
  const auto& t = example(d.test, "-1003290556597046345");
  EXPECT_EQ(t.label, 1);
  EXPECT_EQ(t.tokens, doc);  // query dropped by default
  EXPECT_EQ(t.rationale, bits({0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0}));
  const auto& f = example(d.test, "4221");
  EXPECT_EQ(f.label, 0);
  EXPECT_EQ(f.rationale, bits({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}));
  // The question before the passage.
  const attrib::Dataset q = load_eraser(dir, {{"query", "prepend"}});
  const auto& qt = example(q.test, "-1003290556597046345");
  Tokens expected{"is", "persian", "and", "farsi", "the", "same", "language", "[SEP]"};
  expected.insert(expected.end(), doc.begin(), doc.end());
  EXPECT_EQ(qt.tokens, expected);
  ASSERT_EQ(qt.special.size(), qt.tokens.size());
  EXPECT_EQ(qt.special[7], 1);
  EXPECT_EQ(std::count(qt.special.begin(), qt.special.end(), 1), 1);
  EXPECT_EQ(qt.rationale, bits({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0}));
}

// multirc: annotation ids "<doc>:<q>:<a>" that name no document, docids null: the document comes
// from the evidences; several instances share it; a group of two evidences in two sentences.
TEST(EraserReader, MultircDocumentFromEvidences) {
  const fs::path dir = attrib_test::files::fresh_dir("eraser_reader", "multirc");
  write(dir / "docs" / "News-CNN-1.txt", "Mary went home .\nShe was tired .\nShe slept early .\n");
  write(
      dir / "val.jsonl",
      R"({"annotation_id": "News-CNN-1.txt:0:0", "classification": "True", "docids": null, "evidences": [[{"docid": "News-CNN-1.txt", "end_sentence": 2, "end_token": 8, "start_sentence": 1, "start_token": 4, "text": "She was tired ."}, {"docid": "News-CNN-1.txt", "end_sentence": 3, "end_token": 12, "start_sentence": 2, "start_token": 8, "text": "She slept early ."}]], "query": "Why did Mary sleep early ? || She was tired", "query_type": null}
{"annotation_id": "News-CNN-1.txt:0:1", "classification": "False", "docids": null, "evidences": [[{"docid": "News-CNN-1.txt", "end_sentence": 1, "end_token": 4, "start_sentence": 0, "start_token": 0, "text": "Mary went home ."}]], "query": "Why did Mary sleep early ? || She was hungry", "query_type": null}
)");
  json report;
  const attrib::Dataset d = load_eraser(dir, json::object(), &report);
  EXPECT_EQ(d.class_names, (Tokens{"False", "True"}));
  const Tokens doc{"Mary",  "went", "home", ".",     "She",   "was",
                   "tired", ".",    "She",  "slept", "early", "."};
  const auto& a = example(d.val, "News-CNN-1.txt:0:0");
  EXPECT_EQ(a.tokens, doc);
  EXPECT_EQ(a.label, 1);
  EXPECT_EQ(a.rationale, bits({0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}));
  const auto& b = example(d.val, "News-CNN-1.txt:0:1");
  EXPECT_EQ(b.tokens, doc);
  EXPECT_EQ(b.rationale, bits({1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(report["notes"]["documents_from_evidences"], 2);
  EXPECT_EQ(report["notes"].value("evidence_text_mismatch", 0), 0);
}

// fever: the claim as the query, docids absent, evidence groups in two Wikipedia pages: the pages
// in order of first mention, joined by [SEP].
TEST(EraserReader, FeverEvidenceInTwoDocuments) {
  const fs::path dir = attrib_test::files::fresh_dir("eraser_reader", "fever");
  write(dir / "docs" / "Telemundo",
        "Telemundo is a broadcaster .\nIt is owned by NBCUniversal .\n");
  write(dir / "docs" / "NBCUniversal", "NBCUniversal is a media company .\n");
  write(
      dir / "test.jsonl",
      R"({"annotation_id": "100", "classification": "SUPPORTS", "evidences": [[{"docid": "Telemundo", "end_sentence": 2, "end_token": 10, "start_sentence": 1, "start_token": 5, "text": "It is owned by NBCUniversal"}], [{"docid": "NBCUniversal", "end_sentence": 1, "end_token": 5, "start_sentence": 0, "start_token": 0, "text": "NBCUniversal is a media company"}]], "query": "Telemundo is owned by NBCUniversal .", "query_type": null}
{"annotation_id": "101", "classification": "REFUTES", "evidences": [[{"docid": "Telemundo", "end_sentence": 1, "end_token": 4, "start_sentence": 0, "start_token": 2, "text": "a broadcaster"}]], "query": "Telemundo is a newspaper .", "query_type": null}
)");
  const attrib::Dataset d = load_eraser(dir);
  EXPECT_EQ(d.class_names, (Tokens{"REFUTES", "SUPPORTS"}));
  const auto& s = example(d.test, "100");
  EXPECT_EQ(s.label, 1);
  EXPECT_EQ(s.tokens, (Tokens{"Telemundo", "is", "a", "broadcaster", ".", "It", "is", "owned", "by",
                              "NBCUniversal", ".", "[SEP]", "NBCUniversal", "is", "a", "media",
                              "company", "."}));
  EXPECT_EQ(s.rationale, bits({0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0}));
  const auto& r = example(d.test, "101");
  EXPECT_EQ(r.label, 0);
  EXPECT_EQ(r.tokens.size(), 11u);
  EXPECT_EQ(r.rationale, bits({0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0}));
}

// evidence_inference: docids given, multi-word string labels (sorted), an instance whose only
// evidence group is empty; cos_e: docs.jsonl named by annotation_id, answers as labels.
TEST(EraserReader, EvidenceInferenceAndCosE) {
  const fs::path dir = attrib_test::files::fresh_dir("eraser_reader", "evidence_inference");
  write(dir / "docs" / "PMC3000001",
        "Methods : 40 patients .\nResults : mortality was significantly lower with drug A than "
        "placebo .\n");
  write(
      dir / "train.jsonl",
      R"({"annotation_id": "3000001_0", "classification": "significantly decreased", "docids": ["PMC3000001"], "evidences": [[{"docid": "PMC3000001", "end_sentence": 2, "end_token": 11, "start_sentence": 1, "start_token": 7, "text": "mortality was significantly lower"}]], "query": "with respect to mortality , characterize the effect of drug A relative to placebo", "query_type": null}
{"annotation_id": "3000001_1", "classification": "no significant difference", "docids": ["PMC3000001"], "evidences": [[]], "query": "with respect to pain , characterize the effect of drug A relative to placebo", "query_type": null}
{"annotation_id": "3000001_2", "classification": "significantly increased", "docids": ["PMC3000001"], "evidences": [[{"docid": "PMC3000001", "end_sentence": 1, "end_token": 4, "start_sentence": 0, "start_token": 2, "text": "40 patients"}]], "query": "with respect to enrolment , characterize the effect of drug A relative to placebo", "query_type": null}
)");
  const attrib::Dataset d = load_eraser(dir);
  EXPECT_EQ(d.class_names, (Tokens{"no significant difference", "significantly decreased",
                                   "significantly increased"}));
  ASSERT_EQ(d.train.size(), 3u);
  EXPECT_EQ(d.train[0].label, 1);
  EXPECT_EQ(d.train[0].tokens.size(), 17u);
  EXPECT_EQ(d.train[0].rationale, bits({0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(d.train[1].label, 0);
  EXPECT_TRUE(d.train[1].rationale.empty());
  EXPECT_EQ(d.train[2].label, 2);
  EXPECT_EQ(d.train[2].rationale, bits({0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));

  const fs::path cose = attrib_test::files::fresh_dir("eraser_reader", "cose");
  write(
      cose / "docs.jsonl",
      R"({"docid": "075e483d21c29a511267ef62bedc0461", "document": "Where would you find a ticket booth ?"}
{"docid": "61fe6e879ff18686d7552425a36344c8", "document": "What do people watch films in ?"}
)");
  write(
      cose / "test.jsonl",
      R"({"annotation_id": "075e483d21c29a511267ef62bedc0461", "classification": "train station", "docids": null, "evidences": [[{"docid": "075e483d21c29a511267ef62bedc0461", "end_sentence": -1, "end_token": 7, "start_sentence": -1, "start_token": 5, "text": "ticket booth"}]], "query": "train station [sep] bank [sep] cinema", "query_type": null}
{"annotation_id": "61fe6e879ff18686d7552425a36344c8", "classification": "cinema", "docids": null, "evidences": [[{"docid": "61fe6e879ff18686d7552425a36344c8", "end_sentence": -1, "end_token": 4, "start_sentence": -1, "start_token": 3, "text": "watch"}]], "query": "cinema [sep] park [sep] bed", "query_type": null}
)");
  const attrib::Dataset c = load_eraser(cose);
  EXPECT_EQ(c.class_names, (Tokens{"cinema", "train station"}));
  EXPECT_EQ(c.test[0].label, 1);
  EXPECT_EQ(c.test[0].tokens,
            (Tokens{"Where", "would", "you", "find", "a", "ticket", "booth", "?"}));
  EXPECT_EQ(c.test[0].rationale, bits({0, 0, 0, 0, 0, 1, 1, 0}));
  EXPECT_EQ(c.test[1].label, 0);
  EXPECT_EQ(c.test[1].rationale, bits({0, 0, 0, 1, 0, 0, 0}));
}

// Bad spans, unknown documents and missing files are FILE:LINE errors with expected and found.
TEST(EraserReader, BadInstancesNameFileLineExpectedAndFound) {
  const fs::path dir = attrib_test::files::fresh_dir("eraser_reader", "bad");
  write(dir / "docs" / "x_premise", "A dog .\n");
  write(dir / "docs" / "x_hypothesis", "An animal sits .\n");
  write(dir / "docs" / "Page", "One .\nTwo .\nThree .\n");
  const std::string file = (dir / "test.jsonl").string();
  auto fails = [&](const std::string& line) {
    write(dir / "test.jsonl", "\n" + line + "\n");  // line 2
    return error_of([&] { load_eraser(dir); });
  };
  // Span outside the second document of a pair.
  EXPECT_THAT(
      fails(
          R"({"annotation_id": "x", "classification": "neutral", "evidences": [[{"docid": "x_hypothesis", "start_token": 3, "end_token": 9}]]})"),
      HasSubstr(file + ":2: evidences[0][0]: expected 0 <= start_token <= end_token <= 4 "
                       "(tokens of document 'x_hypothesis'), found [3, 9)"));
  // Sentence offsets outside the document.
  EXPECT_THAT(
      fails(
          R"({"annotation_id": "q", "classification": "T", "evidences": [[{"docid": "Page", "start_token": -1, "end_token": -1, "start_sentence": 1, "end_sentence": 4}]]})"),
      HasSubstr(file + ":2: evidences[0][0]: expected 0 <= start_sentence <= end_sentence <= 3 "
                       "(sentences of document 'Page'; no token offsets given), found [1, 4)"));
  // An evidence in a document the instance's docids do not list.
  EXPECT_THAT(
      fails(
          R"({"annotation_id": "q", "classification": "T", "docids": ["Page"], "evidences": [[{"docid": "x_premise", "start_token": 0, "end_token": 1}]]})"),
      HasSubstr(file + ":2: evidences[0][0].docid: expected one of the example's documents "
                       "[\"Page\"], found \"x_premise\""));
  // A document named only by an evidence, and one listed in docids, that do not exist.
  EXPECT_THAT(
      fails(
          R"({"annotation_id": "q:0:0", "classification": "T", "docids": null, "evidences": [[{"docid": "Gone.txt", "start_token": 0, "end_token": 1}]]})"),
      HasSubstr(file + ":2: document 'Gone.txt': expected a document in " +
                (dir / "docs").string() + ", found none"));
  EXPECT_THAT(fails(R"({"annotation_id": "q", "classification": "T", "docids": ["Nope"]})"),
              HasSubstr(file + ":2: document 'Nope': expected a document in "));
  // Evidence without offsets; a label that is no string.
  EXPECT_THAT(
      fails(
          R"({"annotation_id": "q", "classification": "T", "docids": ["Page"], "evidences": [[{"docid": "Page", "text": "One"}]]})"),
      HasSubstr(file + ":2: evidences[0][0]: expected token offsets start_token/end_token (or "
                       "sentence offsets start_sentence/end_sentence), found none"));
  EXPECT_THAT(fails(R"({"annotation_id": "q", "classification": {"a": 1}, "docids": ["Page"]})"),
              HasSubstr(file + ":2: classification: expected a label string, found {\"a\":1}"));
}

}  // namespace
