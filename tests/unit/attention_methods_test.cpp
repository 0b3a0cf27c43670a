// Attention-family methods (attention, attention_rollout, grad_x_attention, label_attention;
// METHODS.md §3) and the built-in transformer's optional label-attention head. Known answers come
// from a test model with hand-built attention matrices (2 layers, 2 heads, T = 3) and logits that
// are a linear function of the attentions, so every map and gradient is worked out by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "analytic_models.h"
#include "attrib/error.h"
#include "attrib/input_space.h"
#include "registry.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

using namespace attrib_test;

// ---------------------------------------------------------------------------------------------
// A text model with hand-built attentions. Layers l = 0, 1 (1-based in the comments: layer 1, 2),
// heads h = 0, 1, T = 3. An example's maps are picked by its first token id (10 -> "a", 11 -> "b"),
// so they do not depend on the batch. "b" has mask [1, 1, 0]; its padded query row is a
// distinctive [0.9, 0.1, 0] that a method must never read. Logits are linear in the attentions:
//   logit_c = sum_l sum_h sum_ij W[c, l, h, i, j] A_l[h, i, j],  so  d logit_c / d A_l[h] =
//   W[c,l,h]
// with W[0, l, 0] = +1, W[0, l, 1] = -1 (every entry, both layers) and W[1, 1, 1] = 2, else 0.

at::Tensor mat(std::initializer_list<double> v) {
  return at::tensor(std::vector<double>(v)).view({3, 3});
}

class FixedAttentionModel : public attrib::ModelAdapter {
 public:
  // `on_graph` false: the attentions are returned outside the autograd graph.
  explicit FixedAttentionModel(bool on_graph = true) : on_graph_(on_graph) {
    info_.name = "fixed_attention";
    info_.modality = attrib::Modality::kText;
    info_.num_classes = 2;
    info_.capabilities = ATTRIB_CAP_FORWARD | ATTRIB_CAP_ATTENTIONS;
    info_.pad_id = 0;
    const at::Tensor junk = mat({0.9, 0.1, 0, 0.9, 0.1, 0, 0.9, 0.1, 0}).slice(0, 0, 1);
    auto with_junk = [&](at::Tensor m) { return at::cat({m.slice(0, 0, 2), junk}); };
    // tables_[l]: [example, head, T, T]
    tables_.push_back(at::stack(
        {at::stack({mat({.5, .25, .25, 0, 1, 0, .25, .25, .5}),            // "a", layer 1, head 0
                    mat({.5, .5, 0, .5, 0, .5, 0, 0, 1})}),                // "a", layer 1, head 1
         at::stack({with_junk(mat({.75, .25, 0, .5, .5, 0, 0, 0, 0})),     // "b", layer 1, head 0
                    with_junk(mat({.25, .75, 0, 1, 0, 0, 0, 0, 0}))})}));  // "b", layer 1, head 1
    tables_.push_back(at::stack(
        {at::stack({mat({1, 0, 0, .5, .5, 0, .25, .5, .25}),             // "a", layer 2, head 0
                    mat({0, .5, .5, .5, .25, .25, .5, .5, 0})}),         // "a", layer 2, head 1
         at::stack({with_junk(mat({.5, .5, 0, .25, .75, 0, 0, 0, 0})),   // "b", layer 2, head 0
                    with_junk(mat({1, 0, 0, .5, .5, 0, 0, 0, 0}))})}));  // "b", layer 2, head 1
    w_ = at::zeros({2, 2, 2, 3, 3}, at::kDouble);
    w_.select(0, 0).select(1, 0).fill_(1.0);
    w_.select(0, 0).select(1, 1).fill_(-1.0);
    w_[1][1][1].fill_(2.0);
  }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask) override {
    return forward_with_attentions(ids, mask).logits;
  }
  attrib::AttentionOutput forward_with_attentions(const at::Tensor& ids,
                                                  const at::Tensor&) override {
    count.add(ids.size(0));
    const at::Tensor pick = ids.select(1, 0) - 10;
    // A non-leaf on the graph: every attention is (table * one) with `one` requiring grad.
    at::Tensor one = at::ones({}, at::kDouble);
    if (on_graph_) one.requires_grad_(true);
    attrib::AttentionOutput out;
    out.logits = at::zeros({ids.size(0), 2}, at::kDouble);
    for (int64_t l = 0; l < 2; ++l) {
      const at::Tensor a = tables_[l].index_select(0, pick) * one;
      out.attentions.push_back(a);
      out.logits = out.logits + at::einsum("bhij,chij->bc", {a, w_.select(1, l)});
    }
    return out;
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }

  RowCount count;

 private:
  bool on_graph_;
  attrib::ModelInfo info_;
  std::vector<at::Tensor> tables_;
  at::Tensor w_;
};

// "a" = [10 5 6], mask [1 1 1]; "b" = [11 7 PAD], mask [1 1 0].
attrib::Batch fixed_batch() {
  attrib::Batch b;
  b.modality = attrib::Modality::kText;
  b.ids = {"a", "b"};
  b.inputs = at::tensor({10, 5, 6, 11, 7, 0}, at::kLong).view({2, 3});
  b.attention_mask = at::tensor({1, 1, 1, 1, 1, 0}, at::kLong).view({2, 3});
  b.word_ids = at::tensor({0, 1, 2, 0, 1, -1}, at::kLong).view({2, 3});
  b.labels = at::full({2}, -1, at::kLong);
  return b;
}

const at::Tensor kTargets00 = at::tensor({0, 0}, at::kLong);

// Scores of both examples, row-major ("a" then "b").
void expect_scores(const attrib::Explanation& e, const std::vector<double>& want,
                   const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(e.attributions.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(e.attributions.scalar_type(), at::kFloat);
  expect_near(e.attributions, want, 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Registry and metadata.

TEST(AttentionPlugins, LoadThroughRegistryWithMetadata) {
  const std::vector<std::pair<std::string, uint64_t>> expected = {
      {"attention", ATTRIB_CAP_ATTENTIONS},
      {"attention_rollout", ATTRIB_CAP_ATTENTIONS},
      {"grad_x_attention", ATTRIB_CAP_ATTENTIONS},
      {"label_attention", ATTRIB_CAP_LABEL_ATTENTION}};
  for (const auto& [name, caps] : expected) {
    const attrib::PluginInfo* p = registry().find(name, ATTRIB_KIND_METHOD);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->capabilities, caps) << name;
    for (const char* key : {"description", "citation", "params", "cost", "extras"})
      EXPECT_TRUE(p->metadata.contains(key)) << name << " lacks " << key;
    EXPECT_EQ(p->metadata["cost"]["forward_rows"], "1") << name;
    EXPECT_EQ(p->metadata["cost"]["backward_rows"], name == "grad_x_attention" ? "1" : "0");
  }
  const json defaults =
      registry().resolve("attention", ATTRIB_KIND_METHOD, json::object(), "methods[0].params");
  EXPECT_EQ(
      defaults,
      json(
          {{"layer", -1}, {"layer_fusion", "single"}, {"head_fusion", "mean"}, {"query", "mean"}}));
  const json rollout = registry().resolve("attention_rollout", ATTRIB_KIND_METHOD, json::object(),
                                          "methods[0].params");
  EXPECT_EQ(rollout["discard_ratio"], 0.0);
  EXPECT_EQ(rollout["residual"], true);
  EXPECT_EQ(rollout["start_layer"], 0);
  EXPECT_THAT(error_of([] {
                registry().create_method("attention_rollout", {{"head_fusion", "median"}},
                                         "methods[1].params");
              }),
              HasSubstr("methods[1].params.head_fusion"));
  EXPECT_THAT(error_of([] {
                registry().create_method("attention_rollout", {{"discard_ratio", 1.5}},
                                         "methods[1].params");
              }),
              HasSubstr("methods[1].params.discard_ratio"));
}

// ---------------------------------------------------------------------------------------------
// Raw attention.

TEST(AttentionRaw, KnownAnswersForEveryFusionAndQuery) {
  FixedAttentionModel model;
  const attrib::Batch batch = fixed_batch();
  // Last layer (layer 2), "a": mean over heads
  //   row0 [(1+0)/2, (0+.5)/2, (0+.5)/2] = [.5 .25 .25]; row1 [.5 .375 .125]; row2 [.375 .5 .125]
  // query mean = column means: [(.5+.5+.375)/3, (.25+.375+.5)/3, (.25+.125+.125)/3]
  //   = [1.375/3, 1.125/3, .5/3].
  // "b" (rows 0 and 1 only; its padded row [.9 .1 0] is ignored): row0 [.75 .25 0],
  //   row1 [(.25+.5)/2, (.75+.5)/2, 0] = [.375 .625 0]; mean [.5625 .4375 0].
  attrib::Explanation e = run("attention", json::object(), model, batch, kTargets00);
  expect_scores(e, {1.375 / 3, 1.125 / 3, 0.5 / 3, 0.5625, 0.4375, 0}, "mean/mean");
  EXPECT_EQ(e.info["layer"], 1);
  EXPECT_EQ(e.info["n_layers"], 2);
  EXPECT_EQ(e.info["query"], "mean");
  EXPECT_EQ(e.forward_rows, 2);
  EXPECT_EQ(e.backward_rows, 0);

  // query first = row 0: "a" [.5 .25 .25], "b" [.75 .25 0].
  e = run("attention", {{"query", "first"}}, model, batch, kTargets00);
  expect_scores(e, {0.5, 0.25, 0.25, 0.75, 0.25, 0}, "mean/first");

  // max over heads, "a": row0 [1 .5 .5], row1 [.5 .5 .25], row2 [.5 .5 .25];
  //   mean query [2/3, 1.5/3, 1/3]. "b": row0 [1 .5 0], row1 [.5 .75 0]; mean [.75 .625 0].
  e = run("attention", {{"head_fusion", "max"}}, model, batch, kTargets00);
  expect_scores(e, {2.0 / 3, 0.5, 1.0 / 3, 0.75, 0.625, 0}, "max/mean");
  EXPECT_EQ(e.info["head_fusion"], "max");

  // min over heads, first row: "a" [0 0 0]; "b" [.5 0 0].
  e = run("attention", {{"head_fusion", "min"}, {"query", "first"}}, model, batch, kTargets00);
  expect_scores(e, {0, 0, 0, 0.5, 0, 0}, "min/first");

  // Layer 1 (layer = 0 or -2), mean heads, first row: "a" [(.5+.5)/2, (.25+.5)/2, (.25+0)/2]
  //   = [.5 .375 .125]; "b" [(.75+.25)/2, (.25+.75)/2, 0] = [.5 .5 0].
  for (int layer : {0, -2}) {
    e = run("attention", {{"layer", layer}, {"query", "first"}}, model, batch, kTargets00);
    expect_scores(e, {0.5, 0.375, 0.125, 0.5, 0.5, 0}, "layer " + std::to_string(layer));
    EXPECT_EQ(e.info["layer"], 0);
  }

  // Mean over layers of the first rows: "a" ([.5 .375 .125] + [.5 .25 .25]) / 2 = [.5 .3125 .1875];
  //   "b" ([.5 .5 0] + [.75 .25 0]) / 2 = [.625 .375 0].
  e = run("attention", {{"layer_fusion", "mean"}, {"query", "first"}}, model, batch, kTargets00);
  expect_scores(e, {0.5, 0.3125, 0.1875, 0.625, 0.375, 0}, "layer mean");
  EXPECT_EQ(e.info["layer"], "all");
  EXPECT_EQ(e.info["layer_fusion"], "mean");
}

TEST(AttentionRaw, LayerOutOfRangeNamesTheRange) {
  FixedAttentionModel model;
  EXPECT_THAT(error_of([&] {
                run("attention", {{"layer", 2}}, model, fixed_batch(), kTargets00);
              }),
              HasSubstr("attention: layer = 2: expected a layer in [-2, 1] (the model has 2"));
  EXPECT_THAT(error_of([&] {
                run("attention_rollout", {{"start_layer", 2}}, model, fixed_batch(), kTargets00);
              }),
              HasSubstr("start_layer = 2: expected a layer in [0, 1]"));
  // A dense batch is refused with what was expected.
  DenseModel dense = linear_model();
  EXPECT_THAT(
      error_of([&] { run("attention", json::object(), dense, dense_batch(kX, {"x"}), kTarget0); }),
      HasSubstr("attention: expected a text batch"));
}

// ---------------------------------------------------------------------------------------------
// Attention rollout.

TEST(AttentionRollout, KnownAnswers) {
  FixedAttentionModel model;
  const attrib::Batch batch = fixed_batch();
  // "a": Ā_1 (layer 1, mean heads) rows [.5 .375 .125], [.25 .5 .25], [.125 .125 .75];
  //   Â_1 = (Ā_1 + I)/2: [.75 .1875 .0625], [.125 .75 .125], [.0625 .0625 .875].
  //   Ā_2 rows [.5 .25 .25], [.5 .375 .125], [.375 .5 .125];
  //   Â_2 = [.75 .125 .125], [.25 .6875 .0625], [.1875 .25 .5625].
  // query first: r = e0 Â_2 = [.75 .125 .125];
  //   r Â_1 = .75 [.75 .1875 .0625] + .125 [.125 .75 .125] + .125 [.0625 .0625 .875]
  //         = [.5625+.015625+.0078125, .140625+.09375+.0078125, .046875+.015625+.109375]
  //         = [.5859375 .2421875 .171875]  (sums to 1).
  // "b" (mask [1 1 0]): Ā_1 real rows [.5 .5 0], [.75 .25 0] -> Â_1 [.75 .25 0], [.375 .625 0];
  //   Ā_2 [.75 .25 0], [.375 .625 0] -> Â_2 [.875 .125 0], [.1875 .8125 0].
  //   first: r = [.875 .125 0]; r Â_1 = [.65625+.046875, .21875+.078125, 0] = [.703125 .296875 0].
  attrib::Explanation e = run("attention_rollout", {{"query", "first"}}, model, batch, kTargets00);
  expect_scores(e, {0.5859375, 0.2421875, 0.171875, 0.703125, 0.296875, 0}, "first");
  EXPECT_EQ(e.info["residual"], true);
  EXPECT_EQ(e.info["discard_ratio"], 0.0);
  EXPECT_EQ(e.forward_rows, 2);

  // query mean, "a": r = [1/3 1/3 1/3] Â_2 = [1.1875, 1.0625, .75]/3;
  //   r Â_1 = (1.1875 [.75 .1875 .0625] + 1.0625 [.125 .75 .125] + .75 [.0625 .0625 .875]) / 3
  //         = ([.890625 .22265625 .07421875] + [.1328125 .796875 .1328125]
  //            + [.046875 .046875 .65625]) / 3 = [1.0703125, 1.06640625, .86328125] / 3.
  // "b": r = [.5 .5 0] Â_2 = [.53125 .46875 0];
  //   r Â_1 = [.3984375+.17578125, .1328125+.29296875, 0] = [.57421875 .42578125 0].
  e = run("attention_rollout", json::object(), model, batch, kTargets00);
  expect_scores(e, {1.0703125 / 3, 1.06640625 / 3, 0.86328125 / 3, 0.57421875, 0.42578125, 0},
                "mean");
}

TEST(AttentionRollout, DiscardRatioDropsWeakestOffDiagonalEntriesPerRow) {
  FixedAttentionModel model;
  // discard_ratio .5: "a" has n = 3, so floor(.5 * 2) = 1 off-diagonal entry per row goes (ties:
  // the lower key index); "b" has n = 2, floor(.5 * 1) = 0: unchanged from plain rollout.
  //   Ā_1 [.5 .375 .125] -> [.5 .375 0]; [.25 .5 .25] (tie) -> [0 .5 .25];
  //       [.125 .125 .75] (tie) -> [0 .125 .75].
  //   + I, renormalised: [1.5 .375 0]/1.875 = [.8 .2 0]; [0 1.5 .25]/1.75 = [0 6/7 1/7];
  //       [0 .125 1.75]/1.875 = [0 1/15 14/15].
  //   Ā_2 [.5 .25 .25] (tie) -> [.5 0 .25]; [.5 .375 .125] -> [.5 .375 0];
  //       [.375 .5 .125] -> [0 .5 .125].
  //   + I, renormalised: [1.5 0 .25]/1.75 = [6/7 0 1/7]; ...
  // query first: r = [6/7 0 1/7]; r Â_1 = 6/7 [.8 .2 0] + 1/7 [0 1/15 14/15]
  //   = [4.8/7, 1.2/7 + 1/105, 14/105] = [24/35, 19/105, 2/15].
  attrib::Explanation e = run("attention_rollout", {{"query", "first"}, {"discard_ratio", 0.5}},
                              model, fixed_batch(), kTargets00);
  expect_scores(e, {24.0 / 35, 19.0 / 105, 2.0 / 15, 0.703125, 0.296875, 0}, "discard .5");
  EXPECT_EQ(e.info["discard_ratio"], 0.5);
}

TEST(AttentionRollout, StartLayerResidualAndRenormalisation) {
  FixedAttentionModel model;
  // Only layer 2 without the residual: the renormalised fused map, i.e. raw attention of the last
  // layer, first row: "a" [.5 .25 .25], "b" [.75 .25 0].
  attrib::Explanation e =
      run("attention_rollout", {{"query", "first"}, {"start_layer", 1}, {"residual", false}}, model,
          fixed_batch(), kTargets00);
  expect_scores(e, {0.5, 0.25, 0.25, 0.75, 0.25, 0}, "start 1, no residual");
  // Max fusion does not give row-stochastic maps, so renormalisation matters: layer 2 max row 0
  //   "a" [1 .5 .5] + I = [2 .5 .5] / 3; "b" [1 .5 0] + I = [2 .5 0] / 2.5 = [.8 .2 0].
  e = run("attention_rollout", {{"query", "first"}, {"start_layer", 1}, {"head_fusion", "max"}},
          model, fixed_batch(), kTargets00);
  expect_scores(e, {2.0 / 3, 0.5 / 3, 0.5 / 3, 0.8, 0.2, 0}, "start 1, max");
}

// ---------------------------------------------------------------------------------------------
// Gradient-weighted attention (Chefer et al. 2021).

TEST(AttentionGradX, KnownAnswersFromLinearLogits) {
  FixedAttentionModel model;
  const attrib::Batch batch = fixed_batch();
  // Target 0: dlogit/dA_l = +1 (head 0), -1 (head 1), so (∇A ⊙ A)^+ is A for head 0 and 0 for
  // head 1 (clamped per head before the mean): Ā_l = A_l[head 0] / 2.
  //   "a": Ā_1 = [.25 .125 .125; 0 .5 0; .125 .125 .25], Ā_2 = [.5 0 0; .25 .25 0; .125 .25 .125].
  //   first: r = e0 + e0 Ā_2 = [1.5 0 0]; r + r Ā_1 = [1.5 + .375, .1875, .1875].
  //   (Clamping after the mean would give Ā_1 row 0 = [0 0 .125] and r = [1.5 0 .1875].)
  //   "b": Ā_1 = [.375 .125 0; .25 .25 0], Ā_2 = [.25 .25 0; .125 .375 0] (real rows);
  //   first: r = [1.25 .25 0]; r + r Ā_1 = [1.25 + .46875 + .0625, .25 + .15625 + .0625, 0]
  //        = [1.78125 .46875 0].
  attrib::Explanation e = run("grad_x_attention", {{"query", "first"}}, model, batch, kTargets00);
  expect_scores(e, {1.875, 0.1875, 0.1875, 1.78125, 0.46875, 0}, "target 0, first");
  EXPECT_EQ(e.forward_rows, 2);
  EXPECT_EQ(e.backward_rows, 2);
  EXPECT_EQ(e.info["graph_start"], "token ids");
  EXPECT_EQ(e.info["clamp"], "per head, before the mean");

  // query mean, "a": r0 = [1 1 1]/3; r0 Ā_2 = [.875 .5 .125]/3 -> r = [1.875 1.5 1.125]/3
  //   = [.625 .5 .375]; r Ā_1 = .625 [.25 .125 .125] + .5 [0 .5 0] + .375 [.125 .125 .25]
  //   = [.203125 .375 .171875]; scores [.828125 .875 .546875].
  // "b": r0 = [.5 .5 0]; r0 Ā_2 = [.1875 .3125 0] -> r = [.6875 .8125 0];
  //   r Ā_1 = [.2578125 + .203125, .0859375 + .203125, 0] -> [1.1484375 1.1015625 0].
  e = run("grad_x_attention", json::object(), model, batch, kTargets00);
  expect_scores(e, {0.828125, 0.875, 0.546875, 1.1484375, 1.1015625, 0}, "target 0, mean");

  // Target 1: only layer 2, head 1 has weight 2, so Ā_1 = 0 and Ā_2 = (2 A_2[head 1])/2.
  //   "a": first row of A_2[head 1] = [0 .5 .5] -> r = [1 .5 .5].
  //   "b": [1 0 0] -> r = [2 0 0].
  e = run("grad_x_attention", {{"query", "first"}}, model, batch, at::tensor({1, 1}, at::kLong));
  expect_scores(e, {1, 0.5, 0.5, 2, 0, 0}, "target 1, first");
}

TEST(AttentionGradX, RefusesAttentionsOffTheGraph) {
  FixedAttentionModel model(/*on_graph=*/false);
  EXPECT_THAT(
      error_of([&] { run("grad_x_attention", json::object(), model, fixed_batch(), kTargets00); }),
      HasSubstr("grad_x_attention: forward_with_attentions attention 0: expected probabilities "
                "on the autograd path"));
}

TEST(AttentionMethods, BatchedEqualsPerExampleAndMaxRowsOnFixedModel) {
  for (const char* method : {"attention", "attention_rollout", "grad_x_attention"}) {
    SCOPED_TRACE(method);
    FixedAttentionModel model;
    const attrib::Batch batch = fixed_batch();
    const attrib::Explanation all = run(method, json::object(), model, batch, kTargets00);
    EXPECT_EQ(model.count.largest, 2);
    FixedAttentionModel one_row;
    const attrib::Explanation split =
        run(method, json::object(), one_row, batch, kTargets00, /*max_rows=*/1);
    EXPECT_EQ(one_row.count.largest, 1);  // respects max_rows
    EXPECT_EQ(split.forward_rows, 2);
    expect_close(split.attributions, all.attributions, 1e-7);
    for (int64_t i = 0; i < 2; ++i) {
      FixedAttentionModel alone;
      const attrib::Explanation e =
          run(method, json::object(), alone, attrib::slice_batch(batch, i, i + 1),
              kTargets00.slice(0, i, i + 1));
      expect_close(e.attributions, all.attributions.slice(0, i, i + 1), 1e-7);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The built-in transformer: properties of the attention maps, label attention.

std::vector<std::string> small_vocab() {
  std::vector<std::string> v{"[PAD]", "[UNK]", "[MASK]", "good"};
  for (int i = 0; v.size() < 30; ++i) v.push_back("w" + std::to_string(i));
  return v;
}

json transformer_params(uint64_t seed, bool label_attention) {
  return {{"vocab", small_vocab()},
          {"num_classes", 2},
          {"class_names", {"absent", "present"}},
          {"seed", seed},
          {"label_attention", label_attention}};
}

std::shared_ptr<attrib::ModelAdapter> transformer(uint64_t seed, bool label_attention,
                                                  json extra = json::object()) {
  json p = transformer_params(seed, label_attention);
  for (auto& [k, v] : extra.items()) p[k] = v;
  return registry().create_model("text_transformer", p, "models[0].params");
}

// Label 1 iff "good" (id 3) occurs; lengths 3..T, right-padded.
attrib::Batch task_batch(int64_t n, uint64_t seed, int64_t T = 10) {
  std::mt19937_64 rng(seed);
  attrib::Batch b;
  b.modality = attrib::Modality::kText;
  b.inputs = at::zeros({n, T}, at::kLong);
  b.attention_mask = at::zeros({n, T}, at::kLong);
  b.word_ids = at::full({n, T}, -1, at::kLong);
  b.labels = at::zeros({n}, at::kLong);
  std::uniform_int_distribution<int64_t> len(3, T), tok(4, 29), coin(0, 1);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t L = len(rng);
    for (int64_t t = 0; t < L; ++t) {
      b.inputs[i][t] = tok(rng);
      b.attention_mask[i][t] = 1;
      b.word_ids[i][t] = t;
    }
    const int64_t y = coin(rng);
    b.labels[i] = y;
    if (y == 1) b.inputs[i][std::uniform_int_distribution<int64_t>(0, L - 1)(rng)] = 3;
    b.ids.push_back("t" + std::to_string(seed) + "_" + std::to_string(i));
  }
  return b;
}

// Example i alone, trimmed to its real length.
attrib::Batch trimmed(const attrib::Batch& b, int64_t i) {
  attrib::Batch one = attrib::slice_batch(b, i, i + 1);
  const int64_t len = one.attention_mask.sum().item<int64_t>();
  one.inputs = one.inputs.slice(1, 0, len);
  one.attention_mask = one.attention_mask.slice(1, 0, len);
  one.word_ids = one.word_ids.slice(1, 0, len);
  return one;
}

TEST(AttentionTransformer, MapPropertiesPaddingAndBatchIndependence) {
  auto model = transformer(5, false, {{"n_layers", 3}, {"n_heads", 4}});
  const attrib::Batch batch = task_batch(6, 11);
  const at::Tensor targets = at::tensor({0, 1, 1, 0, 1, 0}, at::kLong);
  const at::Tensor mask = batch.attention_mask.to(at::kFloat);
  struct Case {
    const char* method;
    json params;
    bool sums_to_one;
  };
  const std::vector<Case> cases = {
      {"attention", json::object(), true},
      {"attention", {{"layer_fusion", "mean"}, {"query", "first"}}, true},
      {"attention", {{"head_fusion", "max"}}, false},
      {"attention_rollout", json::object(), true},
      {"attention_rollout", {{"discard_ratio", 0.4}, {"query", "first"}}, true},
      {"grad_x_attention", json::object(), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.params.dump());
    const attrib::Explanation e = run(c.method, c.params, *model, batch, targets);
    ASSERT_EQ(e.attributions.sizes(), batch.inputs.sizes());
    const at::Tensor a = e.attributions.to(at::kDouble);
    EXPECT_GE(a.min().item<double>(), 0.0);  // probabilities / clamped
    EXPECT_EQ((a * (1 - mask.to(at::kDouble))).abs().sum().item<double>(), 0.0);  // padding 0
    if (c.sums_to_one) expect_near(a.sum(1), std::vector<double>(6, 1.0), 1e-5);
    if (std::string(c.method) == "grad_x_attention")  // R = I + nonnegative terms: row sum >= 1
      EXPECT_GE(a.sum(1).min().item<double>(), 1.0 - 1e-6);
    EXPECT_EQ(e.forward_rows, 6);
    // Same scores for each example alone without padding, and with max_rows = 4 (two groups).
    for (int64_t i = 0; i < 6; ++i) {
      const attrib::Batch one = trimmed(batch, i);
      const attrib::Explanation alone =
          run(c.method, c.params, *model, one, targets.slice(0, i, i + 1));
      const int64_t len = one.inputs.size(1);
      expect_close(alone.attributions, e.attributions.slice(0, i, i + 1).slice(1, 0, len), 2e-5);
    }
    const attrib::Explanation grouped = run(c.method, c.params, *model, batch, targets, 4);
    expect_close(grouped.attributions, e.attributions, 1e-6);
    EXPECT_EQ(grouped.forward_rows, 6);
  }
}

TEST(AttentionTransformer, GradXAttentionIsClassSpecificAndRawIsNot) {
  auto model = transformer(2, false);
  const attrib::Batch batch = task_batch(4, 3);
  const at::Tensor t0 = at::zeros({4}, at::kLong), t1 = at::ones({4}, at::kLong);
  const attrib::Explanation g0 = run("grad_x_attention", json::object(), *model, batch, t0);
  const attrib::Explanation g1 = run("grad_x_attention", json::object(), *model, batch, t1);
  EXPECT_GT((g0.attributions - g1.attributions).abs().max().item<double>(), 1e-4);
  EXPECT_EQ(g0.info["graph_start"], "embeddings");
  const attrib::Explanation r0 = run("attention_rollout", json::object(), *model, batch, t0);
  const attrib::Explanation r1 = run("attention_rollout", json::object(), *model, batch, t1);
  EXPECT_TRUE(at::equal(r0.attributions, r1.attributions));
}

TEST(AttentionLabel, TransformerHeadConformsAndMatchesHandFusion) {
  auto model = transformer(4, true, {{"n_heads", 4}});
  const attrib::ModelInfo& info = model->info();
  EXPECT_EQ(info.capabilities, ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT |
                                   ATTRIB_CAP_EMBEDDINGS | ATTRIB_CAP_ATTENTIONS |
                                   ATTRIB_CAP_LABEL_ATTENTION | ATTRIB_CAP_LAYERS |
                                   ATTRIB_CAP_TRAINABLE)
      << info.capability_notes.dump();
  EXPECT_TRUE(info.capability_notes.empty()) << info.capability_notes.dump();
  EXPECT_THAT(info.metadata["capabilities"].dump(), HasSubstr("\"label_attention\""));

  const attrib::Batch batch = task_batch(5, 8);
  const int64_t B = 5, T = batch.inputs.size(1);
  attrib::LabelAttentionOutput la;
  at::Tensor logits;
  {
    at::NoGradGuard no_grad;
    la = model->label_attention(batch.inputs, batch.attention_mask);
    logits = model->forward(batch.inputs, batch.attention_mask);
  }
  ASSERT_EQ(la.attention.sizes(), (std::vector<int64_t>{B, 4, 2, T}));
  EXPECT_TRUE(at::allclose(la.logits, logits, 1e-6, 1e-6));
  // Each (head, class) row is a distribution over the real tokens.
  const at::Tensor m = batch.attention_mask.to(at::kFloat).view({B, 1, 1, T});
  EXPECT_TRUE(at::allclose(la.attention.sum(-1), at::ones({B, 4, 2}), 1e-5, 1e-5));
  EXPECT_EQ((la.attention * (1 - m)).abs().sum().item<double>(), 0.0);

  const at::Tensor targets = at::tensor({1, 0, 1, 1, 0}, at::kLong);
  for (const char* fusion : {"mean", "max", "min"}) {
    SCOPED_TRACE(fusion);
    const attrib::Explanation e =
        run("label_attention", {{"head_fusion", fusion}}, *model, batch, targets);
    ASSERT_EQ(e.attributions.sizes(), (std::vector<int64_t>{B, T}));
    EXPECT_EQ(e.forward_rows, B);
    EXPECT_EQ(e.backward_rows, 0);
    EXPECT_EQ(e.info["head_fusion"], fusion);
    // By hand: for each example and token, fuse A[b, h, y_b, t] over h = 0..3.
    std::vector<double> want;
    const auto acc = la.attention.to(at::kDouble).contiguous();
    for (int64_t b = 0; b < B; ++b) {
      const int64_t y = targets[b].item<int64_t>();
      for (int64_t t = 0; t < T; ++t) {
        double sum = 0, hi = -1, lo = 2;
        for (int64_t h = 0; h < 4; ++h) {
          const double v = acc[b][h][y][t].item<double>();
          sum += v;
          hi = std::max(hi, v);
          lo = std::min(lo, v);
        }
        const bool real = batch.attention_mask[b][t].item<int64_t>() == 1;
        const std::string f = fusion;
        want.push_back(!real ? 0.0 : f == "mean" ? sum / 4 : f == "max" ? hi : lo);
      }
    }
    expect_near(e.attributions, want, 1e-6);
    if (std::string(fusion) == "mean")
      expect_near(e.attributions.sum(1), std::vector<double>(B, 1.0), 1e-5);
  }
  // Class-specific: the other class's map differs.
  const attrib::Explanation e1 = run("label_attention", json::object(), *model, batch, targets);
  const attrib::Explanation e0 = run("label_attention", json::object(), *model, batch, 1 - targets);
  EXPECT_GT((e1.attributions - e0.attributions).abs().max().item<double>(), 1e-4);
  // Batched == alone without padding; max_rows = 2 (three groups).
  for (int64_t i = 0; i < B; ++i) {
    const attrib::Batch one = trimmed(batch, i);
    const attrib::Explanation alone =
        run("label_attention", json::object(), *model, one, targets.slice(0, i, i + 1));
    expect_close(alone.attributions,
                 e1.attributions.slice(0, i, i + 1).slice(1, 0, one.inputs.size(1)), 2e-5);
  }
  const attrib::Explanation grouped =
      run("label_attention", json::object(), *model, batch, targets, 2);
  expect_close(grouped.attributions, e1.attributions, 1e-7);
  EXPECT_EQ(grouped.forward_rows, B);
  EXPECT_THAT(error_of([&] {
                run("label_attention", json::object(), *model, batch,
                    at::tensor({0, 0, 2, 0, 0}, at::kLong));
              }),
              HasSubstr("label_attention: expected targets in [0, 2), got [0, 2]"));
}

TEST(AttentionLabel, HeadLayersAndSharedParameters) {
  auto with = transformer(6, true), without = transformer(6, false);
  std::vector<std::string> names_with, names_without;
  for (const auto& l : with->layers()) names_with.push_back(l.name);
  for (const auto& l : without->layers()) names_without.push_back(l.name);
  EXPECT_EQ(names_without,
            (std::vector<std::string>{"embedding", "layer0.attention", "layer0.mlp",
                                      "layer1.attention", "layer1.mlp", "classifier"}));
  EXPECT_EQ(names_with, (std::vector<std::string>{"embedding", "layer0.attention", "layer0.mlp",
                                                  "layer1.attention", "layer1.mlp",
                                                  "label_attention", "classifier"}));
  const auto layers = with->layers();
  std::map<std::string, at::Tensor> shared;
  for (const auto& l : without->layers())
    for (const auto& [n, t] : l.parameters) shared[n] = t;
  for (const auto& l : layers) {
    if (l.name == "label_attention") {
      ASSERT_EQ(l.parameters.size(), 7u);
      EXPECT_EQ(l.parameters[0].first, "label_q");
      EXPECT_EQ(l.parameters[0].second.sizes(), (std::vector<int64_t>{2, 32}));
      continue;
    }
    // The label head is drawn last, so the shared parameters equal the plain model's.
    for (const auto& [n, t] : l.parameters) EXPECT_TRUE(at::equal(t, shared.at(n))) << n;
  }
}

TEST(AttentionLabel, DefaultTransformerIsUnchanged) {
  auto plain = registry().create_model(
      "text_transformer",
      {{"vocab", small_vocab()}, {"num_classes", 2}, {"class_names", {"absent", "present"}}},
      "models[0].params");
  auto off = transformer(0, false);
  const attrib::ModelInfo& info = plain->info();
  EXPECT_EQ(info.capabilities, ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT |
                                   ATTRIB_CAP_EMBEDDINGS | ATTRIB_CAP_ATTENTIONS |
                                   ATTRIB_CAP_LAYERS | ATTRIB_CAP_TRAINABLE);
  EXPECT_FALSE(info.metadata.contains("label_attention"));
  EXPECT_EQ(info.metadata["pooling"], "masked mean over tokens");
  EXPECT_EQ(info.metadata["capabilities"],
            json({"forward", "input_gradient", "embeddings", "attentions", "layers", "trainable"}));
  const attrib::Batch batch = task_batch(4, 5);
  EXPECT_EQ(error_of([&] { plain->label_attention(batch.inputs, batch.attention_mask); }),
            "model was not configured with label attention");
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(plain->forward(batch.inputs, batch.attention_mask),
                        off->forward(batch.inputs, batch.attention_mask)));
}

// Runs the attrib CLI with `args`; returns the exit code and fills stdout/stderr.
int attrib_cli(const std::string& args, const std::string& tag, std::string* out,
               std::string* err) {
  const fs::path dir = fs::path(ATTRIB_TEST_TMP) / "attention";
  fs::create_directories(dir);
  const fs::path o = dir / (tag + ".out"), e = dir / (tag + ".err");
  const std::string cmd = "ATTRIB_CACHE_DIR='" + (dir / "cache").string() + "' '" ATTRIB_BIN "' " +
                          args + " >'" + o.string() + "' 2>'" + e.string() + "'";
  const int status = std::system(cmd.c_str());
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  *out = slurp(o);
  *err = slurp(e);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(AttentionLabel, TrainsSavesLoadsAndRunsFromTheCli) {
  auto model = transformer(0, true);
  attrib::TrainOptions o;
  o.epochs = 20;
  o.batch_size = 32;
  o.learning_rate = 5e-3;
  o.patience = 4;
  o.seed = 7;
  const attrib::TrainReport r = model->train(task_batch(400, 1), task_batch(100, 2), o);
  EXPECT_GE(r.val_accuracy, 0.9) << r.history.dump();
  EXPECT_TRUE(model->has(ATTRIB_CAP_LABEL_ATTENTION));

  const fs::path dir = fs::path(ATTRIB_TEST_TMP) / "attention";
  fs::create_directories(dir);
  const std::string path = (dir / "label_transformer.pt").string();
  model->save(path);
  auto loaded = registry().create_model("torchscript", {{"path", path}}, "models[1].params");
  EXPECT_TRUE(loaded->has(ATTRIB_CAP_LABEL_ATTENTION)) << loaded->info().capability_notes.dump();
  const attrib::Batch probe = task_batch(6, 9);
  {
    at::NoGradGuard no_grad;
    const auto a = model->label_attention(probe.inputs, probe.attention_mask);
    const auto b = loaded->label_attention(probe.inputs, probe.attention_mask);
    EXPECT_TRUE(at::equal(a.attention, b.attention));
    EXPECT_TRUE(at::equal(a.logits, b.logits));
  }

  // From the command line: the label-attention model explains; the plain one is refused before
  // any computation.
  std::string out, err;
  ASSERT_EQ(attrib_cli("explain --model 'text_transformer:" + path +
                           "' --method label_attention --text 'w1 good w2' --json",
                       "label_ok", &out, &err),
            0)
      << err;
  const json doc = json::parse(out);
  EXPECT_EQ(doc["attribution_shape"], json({1, 3}));
  EXPECT_NEAR(doc["sum"][0].get<double>(), 1.0, 1e-5);
  EXPECT_EQ(doc["info"]["head_fusion"], "mean");

  const std::string plain_path = (dir / "plain_transformer.pt").string();
  transformer(0, false)->save(plain_path);
  EXPECT_EQ(attrib_cli("explain --model 'text_transformer:" + plain_path +
                           "' --method label_attention --text 'w1 good w2'",
                       "label_refused", &out, &err),
            3);
  EXPECT_THAT(err, HasSubstr("needs model capabilities [label_attention]"));
}

}  // namespace
