// Built-in text models text_bow and text_cnn (known answers with hand-set weights, padding and
// batch independence, capabilities, determinism, save/load, training, Python interop) and the
// `tokenizer` parameter of all three text models (text_transformer included).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/script.h>

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "attrib/error.h"
#include "attrib/torchscript_model.h"
#include "model_checks.h"
#include "model_fixtures.h"
#include "registry.h"

using nlohmann::json;
using ::testing::HasSubstr;

namespace {

// What text_bow and text_cnn offer: everything a text model can but attention.
constexpr uint64_t kNoAttentionCaps = ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT |
                                      ATTRIB_CAP_EMBEDDINGS | ATTRIB_CAP_LAYERS |
                                      ATTRIB_CAP_TRAINABLE;

using model_checks::clone_independent;
using model_checks::error_of;
using model_checks::expect_text_info;
using model_checks::layer_names;
using model_checks::logits_of;
using model_checks::model;
using model_checks::python_round_trip;
using model_checks::same_seed_same_weights;
using model_checks::save_load_bit_identical;
using model_checks::trains_on_synthetic_task;
using model_fixtures::registry;
using model_fixtures::synthetic_batch;
using model_fixtures::synthetic_vocab;

std::string tmp_path(const std::string& name) {
  return model_fixtures::tmp_path("text_models", name);
}

// A tiny model on a 6-token vocabulary whose weights the test sets by hand.
std::shared_ptr<attrib::ModelAdapter> tiny(const std::string& plugin, const json& extra) {
  json p = {{"vocab", {"[PAD]", "[UNK]", "[MASK]", "a", "b", "c"}}, {"num_classes", 2}};
  for (auto& [k, v] : extra.items()) p[k] = v;
  return registry().create_model(plugin, p, "p");
}

// Sets every parameter of `m` by name (layers() aliases the module's parameters).
void set_params(attrib::ModelAdapter& m, const std::map<std::string, at::Tensor>& values) {
  at::NoGradGuard no_grad;
  size_t set = 0;
  for (auto& layer : m.layers())
    for (auto& [name, t] : layer.parameters) {
      auto it = values.find(name);
      ASSERT_NE(it, values.end()) << "no value for " << name;
      ASSERT_EQ(t.sizes(), it->second.sizes()) << name;
      t.copy_(it->second);
      ++set;
    }
  EXPECT_EQ(set, values.size());
}

at::Tensor ids_of(std::vector<std::vector<int64_t>> rows) {
  const int64_t B = static_cast<int64_t>(rows.size()), T = static_cast<int64_t>(rows[0].size());
  at::Tensor t = at::zeros({B, T}, at::kLong);
  for (int64_t i = 0; i < B; ++i)
    for (int64_t j = 0; j < T; ++j) t[i][j] = rows[i][j];
  return t;
}

// Example i of `b` alone, trimmed to its length, then followed by `extra` padded positions.
at::Tensor alone_logits(attrib::ModelAdapter& m, const attrib::Batch& b, int64_t i, int64_t extra) {
  const int64_t len = b.attention_mask[i].sum().item<int64_t>();
  at::Tensor ids =
      at::cat({b.inputs.narrow(0, i, 1).narrow(1, 0, len), at::zeros({1, extra}, at::kLong)}, 1);
  at::Tensor mask = at::cat(
      {b.attention_mask.narrow(0, i, 1).narrow(1, 0, len), at::zeros({1, extra}, at::kLong)}, 1);
  return logits_of(m, ids, mask);
}

// Capabilities (embeddings yes, attention no), metadata and embed's shape.
void capabilities_and_metadata(const std::string& plugin) {
  auto m = model(plugin);
  expect_text_info(*m, plugin, kNoAttentionCaps);
  EXPECT_TRUE(m->has(ATTRIB_CAP_EMBEDDINGS));
  EXPECT_FALSE(m->has(ATTRIB_CAP_ATTENTIONS));
  EXPECT_FALSE(m->has(ATTRIB_CAP_LABEL_ATTENTION));
  attrib::Batch b = synthetic_batch(3, 4);
  // embed is the token embedding table, row for row: exactly the attributed tensor.
  at::Tensor e = m->embed(b.inputs);
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{3, 12, 32}));
  at::Tensor table = m->layers().front().parameters.front().second;
  EXPECT_TRUE(at::equal(e, table.index_select(0, b.inputs.view({-1})).view({3, 12, 32})));
  // Gradients reach the embeddings; forward_from_embeddings(embed) == forward.
  at::Tensor eg = e.detach().requires_grad_(true);
  at::Tensor out = m->forward_from_embeddings(eg, b.attention_mask);
  EXPECT_TRUE(at::allclose(out, logits_of(*m, b), 1e-6, 1e-6));
  at::Tensor g = torch::autograd::grad({out.select(1, 1).sum()}, {eg})[0];
  EXPECT_GT(g.abs().sum().item<double>(), 0.0);
  // No attention is offered.
  EXPECT_THAT(error_of([&] { m->forward_with_attentions(b.inputs, b.attention_mask); }),
              HasSubstr("attention"));
}

// Padding and batch independence: each example alone, trimmed, and with 0, 1, 5, 20 extra
// padded positions, equals its row in the padded batch.
void padding_independent(const std::string& plugin, const json& extra) {
  auto m = model(plugin, 3, extra);
  attrib::Batch b = synthetic_batch(8, 8, 10);
  // Include lengths 1 and 2 (shorter than some kernels).
  b.attention_mask[0].fill_(0);
  b.attention_mask[0][0] = 1;
  b.inputs[0].narrow(0, 1, 9).fill_(0);
  b.attention_mask[1].narrow(0, 2, 8).fill_(0);
  b.inputs[1].narrow(0, 2, 8).fill_(0);
  at::Tensor batch = logits_of(*m, b);
  double worst = 0;
  for (int64_t i = 0; i < b.size(); ++i)
    for (int64_t extra_pad : {0, 1, 5, 20}) {
      at::Tensor alone = alone_logits(*m, b, i, extra_pad);
      worst = std::max(worst, (alone - batch.narrow(0, i, 1)).abs().max().item<double>());
      EXPECT_TRUE(at::allclose(alone, batch.narrow(0, i, 1), 1e-5, 1e-6))
          << "example " << i << " with " << extra_pad << " extra padded positions";
    }
  std::cout << "[ " << plugin << " ] padding independence: max |diff| " << worst << "\n";
  // Padded positions hold arbitrary ids: a different token there changes nothing either.
  at::Tensor noisy = b.inputs.clone();
  noisy.masked_fill_(b.attention_mask.eq(0), 5);
  EXPECT_TRUE(at::allclose(logits_of(*m, noisy, b.attention_mask), batch, 1e-5, 1e-6));
}

}  // namespace

// ---- text_bow -----------------------------------------------------------------------------------

TEST(TextBow, KnownAnswerMeanEmbeddingThroughLinear) {
  auto m = tiny("text_bow", {{"d_model", 2}});
  EXPECT_EQ(layer_names(*m), (std::vector<std::string>{"embedding", "classifier"}));
  // e(a) = (1, 2), e(b) = (3, -4), e(c) = (0.5, 0.5); W = [[1, 0], [2, -1]], b = (0.5, -1).
  set_params(
      *m, {{"tok_emb",
            at::tensor({0.f, 0.f, 9.f, 9.f, 7.f, 7.f, 1.f, 2.f, 3.f, -4.f, .5f, .5f}).view({6, 2})},
           {"cls_w", at::tensor({1.f, 0.f, 2.f, -1.f}).view({2, 2})},
           {"cls_b", at::tensor({0.5f, -1.f})}});
  // [a, b, pad, pad]: mean (2, -1) -> (2.5, 4). [c, a, b, a] (ids 5 3 4 3): mean (1.375, 0.125)
  // -> (1.875, 1.625). [unk, pad...] masked to one real token (9, 9) -> (9.5, 8).
  at::Tensor ids = ids_of({{3, 4, 0, 0}, {5, 3, 4, 3}, {1, 0, 0, 0}});
  at::Tensor mask = ids_of({{1, 1, 0, 0}, {1, 1, 1, 1}, {1, 0, 0, 0}});
  at::Tensor expected = at::tensor({2.5f, 4.f, 1.875f, 1.625f, 9.5f, 8.f}).view({3, 2});
  at::Tensor got = logits_of(*m, ids, mask);
  EXPECT_TRUE(at::allclose(got, expected, 0, 1e-6)) << got;
  // A fully masked example pools to zeros: the bias alone.
  EXPECT_TRUE(at::allclose(logits_of(*m, ids_of({{3, 4}}), ids_of({{0, 0}})),
                           at::tensor({0.5f, -1.f}).view({1, 2}), 0, 1e-7));
  // Gradient of logit 1 w.r.t. the embeddings of [a, b, pad, pad]: W[1] / 2 on real tokens, 0 on
  // padded ones.
  at::Tensor e = m->embed(ids.narrow(0, 0, 1)).detach().requires_grad_(true);
  at::Tensor l = m->forward_from_embeddings(e, mask.narrow(0, 0, 1));
  at::Tensor g = torch::autograd::grad({l.select(1, 1).sum()}, {e})[0];
  EXPECT_TRUE(at::allclose(
      g, at::tensor({1.f, -.5f, 1.f, -.5f, 0.f, 0.f, 0.f, 0.f}).view({1, 4, 2}), 0, 1e-7))
      << g;
}

TEST(TextBow, KnownAnswerWithHiddenLayer) {
  auto m = tiny("text_bow", {{"d_model", 2}, {"hidden", 3}});
  EXPECT_EQ(layer_names(*m), (std::vector<std::string>{"embedding", "hidden", "classifier"}));
  EXPECT_EQ(m->info().metadata.at("hidden").get<int64_t>(), 3);
  set_params(
      *m, {{"tok_emb",
            at::tensor({0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 1.f, 2.f, 3.f, -4.f, .5f, .5f}).view({6, 2})},
           {"hidden_w", at::tensor({1.f, 1.f, -1.f, 0.f, 0.f, -1.f}).view({3, 2})},
           {"hidden_b", at::tensor({0.f, 1.f, 0.5f})},
           {"cls_w", at::tensor({1.f, 1.f, 1.f, 2.f, 0.f, -1.f}).view({2, 3})},
           {"cls_b", at::tensor({0.f, 0.25f})}});
  // [a, b]: mean x = (2, -1); h = ReLU(1, -1, 1.5) = (1, 0, 1.5); logits (2.5, 0.75).
  at::Tensor got = logits_of(*m, ids_of({{3, 4, 0}}), ids_of({{1, 1, 0}}));
  EXPECT_TRUE(at::allclose(got, at::tensor({2.5f, 0.75f}).view({1, 2}), 0, 1e-6)) << got;
}

TEST(TextBow, CapabilitiesAndMetadata) {
  capabilities_and_metadata("text_bow");
  EXPECT_EQ(layer_names(*model("text_bow")), (std::vector<std::string>{"embedding", "classifier"}));
}
TEST(TextBow, PaddingAndBatchIndependence) { padding_independent("text_bow", {{"hidden", 8}}); }
TEST(TextBow, SameSeedSameWeightsAndLogits) { same_seed_same_weights("text_bow"); }
TEST(TextBow, SaveLoadThroughTorchscriptPluginBitIdentical) {
  save_load_bit_identical("text_bow", {{"hidden", 8}}, kNoAttentionCaps);
}
TEST(TextBow, CloneHasIndependentParameters) { clone_independent("text_bow"); }
TEST(TextBow, TrainsOnSyntheticTask) { trains_on_synthetic_task("text_bow"); }
TEST(TextBow, PythonLoadsItWithSameLogits) {
  REQUIRE_PYTHON_TORCH();
  python_round_trip("text_bow", 0);
}

// ---- text_cnn -----------------------------------------------------------------------------------

// One filter of width 2 on 1-d embeddings e(a) = 1, e(b) = 2, e(c) = -3: window value
// w0 e_t + w1 e_{t+1} + bias, ReLU, max over the windows inside the sequence; logits = c * max + d.
TEST(TextCnn, KnownAnswerOneFilter) {
  auto m = tiny("text_cnn", {{"d_model", 1}, {"kernel_sizes", {2}}, {"n_filters", 1}});
  EXPECT_EQ(layer_names(*m), (std::vector<std::string>{"embedding", "conv0", "classifier"}));
  auto set = [&](float w0, float w1, float bias) {
    set_params(*m, {{"tok_emb", at::tensor({5.f, 5.f, 5.f, 1.f, 2.f, -3.f}).view({6, 1})},
                    {"conv0_w", at::tensor({w0, w1}).view({1, 1, 2})},
                    {"conv0_b", at::tensor({bias})},
                    {"cls_w", at::tensor({1.f, -2.f}).view({2, 1})},
                    {"cls_b", at::tensor({0.f, 1.f})}});
  };
  auto logits = [&](std::vector<int64_t> ids, std::vector<int64_t> mask) {
    return logits_of(*m, ids_of({ids}), ids_of({mask}));
  };
  auto expect_max = [&](const at::Tensor& got, float max) {
    EXPECT_TRUE(at::allclose(got, at::tensor({max, 1.f - 2.f * max}).view({1, 2}), 0, 1e-6))
        << got << " expected max " << max;
  };
  set(1.f, 1.f, 0.f);
  // [a, b, c, a]: windows 3, -1, -2 -> ReLU max 3.
  expect_max(logits({3, 4, 5, 3}, {1, 1, 1, 1}), 3.f);
  // [c, a, b]: windows -2, 3 -> 3; with padding after it, unchanged.
  expect_max(logits({5, 3, 4}, {1, 1, 1}), 3.f);
  expect_max(logits({5, 3, 4, 0, 0, 0}, {1, 1, 1, 0, 0, 0}), 3.f);
  // The padded token's own embedding (5) is zeroed, so it never enters a window.
  set(1.f, -1.f, 0.f);
  // [a, b]: the one window inside gives 1 - 2 = -1 -> 0. The window (b, pad) would give 2 - 0 = 2
  // were it not excluded.
  expect_max(logits({3, 4, 0, 0}, {1, 1, 0, 0}), 0.f);
  expect_max(logits({3, 4}, {1, 1}), 0.f);
  // [b, a, c]: windows 1, 4 -> 4.
  expect_max(logits({4, 3, 5, 0}, {1, 1, 1, 0}), 4.f);
  // Shorter than the kernel: [b] alone has the window (b, 0) = 2, with or without padding, and
  // also as a batch of width 1 (T < k).
  expect_max(logits({4}, {1}), 2.f);
  expect_max(logits({4, 0, 0}, {1, 0, 0}), 2.f);
  // The bias enters every window: [a, b] with bias 0.5 and weights (1, -1): -1 + 0.5 -> 0.
  set(1.f, -1.f, 0.5f);
  expect_max(logits({3, 4, 0}, {1, 1, 0}), 0.f);
  // [b, a]: 2 - 1 + 0.5 = 1.5.
  expect_max(logits({4, 3, 0}, {1, 1, 0}), 1.5f);
  // No real token: the one all-zero window, ReLU(bias).
  expect_max(logits({4, 3}, {0, 0}), 0.5f);
}

TEST(TextCnn, KnownAnswerParallelKernelsConcatenate) {
  auto m = tiny("text_cnn", {{"d_model", 1}, {"kernel_sizes", {1, 3}}, {"n_filters", 1}});
  EXPECT_EQ(layer_names(*m),
            (std::vector<std::string>{"embedding", "conv0", "conv1", "classifier"}));
  EXPECT_EQ(m->info().metadata.at("kernel_sizes"), json({1, 3}));
  set_params(*m, {{"tok_emb", at::tensor({0.f, 0.f, 0.f, 1.f, 2.f, -3.f}).view({6, 1})},
                  {"conv0_w", at::tensor({-1.f}).view({1, 1, 1})},
                  {"conv0_b", at::tensor({0.f})},
                  {"conv1_w", at::tensor({1.f, 1.f, 1.f}).view({1, 1, 3})},
                  {"conv1_b", at::tensor({0.f})},
                  {"cls_w", at::tensor({1.f, 0.f, 0.f, 1.f}).view({2, 2})},
                  {"cls_b", at::tensor({0.f, 0.f})}});
  // [a, b, c, b]: k=1 max ReLU(-e) = 3 (at c); k=3 windows 0, 1 -> 1. Logits = (3, 1).
  at::Tensor got = logits_of(*m, ids_of({{3, 4, 5, 4, 0}}), ids_of({{1, 1, 1, 1, 0}}));
  EXPECT_TRUE(at::allclose(got, at::tensor({3.f, 1.f}).view({1, 2}), 0, 1e-6)) << got;
  // [b, a] (shorter than 3): k=1: 0; k=3: one window b + a + 0 = 3.
  got = logits_of(*m, ids_of({{4, 3, 0, 0, 0}}), ids_of({{1, 1, 0, 0, 0}}));
  EXPECT_TRUE(at::allclose(got, at::tensor({0.f, 3.f}).view({1, 2}), 0, 1e-6)) << got;
}

TEST(TextCnn, CapabilitiesAndMetadata) {
  capabilities_and_metadata("text_cnn");
  auto m = model("text_cnn");
  EXPECT_EQ(layer_names(*m),
            (std::vector<std::string>{"embedding", "conv0", "conv1", "conv2", "classifier"}));
  EXPECT_EQ(m->info().metadata.at("kernel_sizes"), json({2, 3, 4}));
  EXPECT_EQ(m->info().metadata.at("n_filters").get<int64_t>(), 32);
  auto layers = m->layers();
  EXPECT_EQ(layers[3].parameters[0].second.sizes(), (std::vector<int64_t>{32, 32, 4}));
  EXPECT_EQ(layers.back().parameters[0].second.sizes(), (std::vector<int64_t>{2, 96}));
  // The layers alias the parameters: re-initialising one changes the model.
  attrib::Batch b = synthetic_batch(4, 6);
  at::Tensor before = logits_of(*m, b);
  {
    at::NoGradGuard no_grad;
    layers[2].parameters[0].second.uniform_(-1, 1);
  }
  EXPECT_FALSE(at::equal(logits_of(*m, b), before));
}

TEST(TextCnn, PaddingAndBatchIndependence) { padding_independent("text_cnn", json::object()); }
TEST(TextCnn, PaddingIndependenceWithWideKernels) {
  // Kernels wider than most of the sequences (lengths 1 .. 10).
  padding_independent("text_cnn", {{"kernel_sizes", {5, 7}}, {"n_filters", 4}});
}
TEST(TextCnn, SameSeedSameWeightsAndLogits) { same_seed_same_weights("text_cnn"); }
TEST(TextCnn, SaveLoadThroughTorchscriptPluginBitIdentical) {
  save_load_bit_identical("text_cnn", {{"kernel_sizes", {1, 3}}}, kNoAttentionCaps);
}
TEST(TextCnn, CloneHasIndependentParameters) { clone_independent("text_cnn"); }
TEST(TextCnn, TrainsOnSyntheticTask) { trains_on_synthetic_task("text_cnn"); }
TEST(TextCnn, PythonLoadsItWithSameLogits) {
  REQUIRE_PYTHON_TORCH();
  python_round_trip("text_cnn", 0);
}

TEST(TextCnn, ParameterErrors) {
  EXPECT_THAT(error_of([] {
                model("text_cnn", 0, {{"kernel_sizes", json::array()}});
              }),
              HasSubstr("kernel_sizes: expected a non-empty list"));
  EXPECT_THAT(error_of([] {
                model("text_cnn", 0, {{"kernel_sizes", {2, 0}}});
              }),
              HasSubstr("kernel_sizes[1]: expected an integer >= 1, got 0"));
  EXPECT_THAT(error_of([] { model("text_cnn", 0, {{"n_filters", 0}}); }), HasSubstr("n_filters"));
  EXPECT_THAT(error_of([] {
                registry().create_model("text_cnn", {{"num_classes", 2}});
              }),
              HasSubstr("text_cnn: parameter 'vocab' is required"));
  EXPECT_THAT(
      error_of([] {
        model("text_bow", 0, {{"pad_id", 40}});
      }),
      HasSubstr("text_bow: pad_id = 40, expected -1 or an id below the vocabulary size 30"));
}

// ---- the tokenizer parameter of every text model ------------------------------------------------

TEST(TextModels, TokenizerIsRecordedInTheSavedMetadata) {
  for (const std::string plugin : {"text_transformer", "text_bow", "text_cnn"}) {
    SCOPED_TRACE(plugin);
    const attrib::PluginInfo* info = registry().find(plugin, ATTRIB_KIND_MODEL);
    ASSERT_NE(info, nullptr);
    const json& schema = info->metadata.at("params").at("tokenizer");
    EXPECT_EQ(schema.at("default"), "word");
    EXPECT_EQ(schema.at("enum"), json({"word", "wordpiece"}));
    EXPECT_EQ(model(plugin)->info().metadata.at("tokenizer"), "word");
    auto m = model(plugin, 0, {{"tokenizer", "wordpiece"}});
    EXPECT_EQ(m->info().metadata.at("tokenizer"), "wordpiece");
    // Metadata only: the network is the same.
    attrib::Batch b = synthetic_batch(4, 1);
    EXPECT_TRUE(at::equal(logits_of(*m, b), logits_of(*model(plugin), b)));
    const std::string path = tmp_path(plugin + "_wordpiece.pt");
    m->save(path);
    auto loaded = registry().create_model("torchscript", {{"path", path}}, "p");
    EXPECT_EQ(loaded->info().metadata.at("tokenizer"), "wordpiece");
    auto again = registry().create_model(plugin, {{"checkpoint", path}}, "p");
    EXPECT_EQ(again->info().metadata.at("tokenizer"), "wordpiece");
    EXPECT_THAT(error_of([&] {
                  model(plugin, 0, {{"tokenizer", "bpe"}});
                }),
                HasSubstr("tokenizer"));
  }
}
