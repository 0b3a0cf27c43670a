// Model plugins: the built-in text_transformer (training, determinism, save/load, conformance,
// clone, layers), the torchscript plugin and TorchScriptModel's conformance checks, and
// interoperability with Python's torch.jit.
#include <ATen/CPUGeneratorImpl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/script.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "attrib/error.h"
#include "attrib/torchscript_model.h"
#include "data/dataset.h"
#include "model_checks.h"
#include "model_fixtures.h"
#include "registry.h"

using nlohmann::json;
using ::testing::HasSubstr;

namespace {

constexpr uint64_t kTextCaps = ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT |
                               ATTRIB_CAP_EMBEDDINGS | ATTRIB_CAP_ATTENTIONS | ATTRIB_CAP_LAYERS |
                               ATTRIB_CAP_TRAINABLE;

using model_checks::all_params;
using model_checks::error_of;
using model_checks::logits_of;
using model_checks::quick_options;
using model_checks::text_params;
using model_fixtures::registry;
using model_fixtures::run_python;
using model_fixtures::synthetic_batch;
using model_fixtures::synthetic_vocab;

std::string tmp_path(const std::string& name) { return model_fixtures::tmp_path("models", name); }

std::shared_ptr<attrib::ModelAdapter> text_model(uint64_t seed = 0,
                                                 const json& extra = json::object()) {
  return model_checks::model("text_transformer", seed, extra);
}

}  // namespace

// ---- text_transformer ---------------------------------------------------------------------------

TEST(TextTransformer, CapabilitiesAndMetadata) {
  auto m = text_model();
  model_checks::expect_text_info(*m, "text_transformer", kTextCaps);
  EXPECT_EQ(m->info().metadata.at("n_layers").get<int64_t>(), 2);
}

TEST(TextTransformer, TrainsOnSyntheticTask) {
  model_checks::TrainingCheck c;
  c.n_train = 500;
  c.n_val = 100;
  c.n_test = 0;
  c.epochs = 30;
  c.patience = 4;
  c.min_accuracy = 0.95;
  c.min_macro_f1 = 0.95;
  c.max_seconds = 60.0;
  model_checks::trains_on_synthetic_task("text_transformer", c);
}

TEST(TextTransformer, SameSeedSameWeightsAndLogits) {
  model_checks::same_seed_same_weights("text_transformer");
}

TEST(TextTransformer, SaveLoadThroughTorchscriptPlugin) {
  model_checks::save_load_bit_identical("text_transformer", json::object(), kTextCaps);
}

TEST(TextTransformer, Conformance) {
  auto m = text_model(2, {{"n_layers", 3}, {"n_heads", 4}});
  attrib::Batch b = synthetic_batch(5, 4);
  const int64_t B = b.size(), T = b.inputs.size(1);

  // Embeddings: forward_from_embeddings(embed(ids)) == forward(ids), gradients reach E.
  at::Tensor logits = logits_of(*m, b);
  at::Tensor e = m->embed(b.inputs).detach().requires_grad_(true);
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{B, T, 32}));
  at::Tensor via_e = m->forward_from_embeddings(e, b.attention_mask);
  EXPECT_TRUE(at::allclose(via_e, logits, 1e-5, 1e-6));
  at::Tensor g = torch::autograd::grad({via_e.select(1, 1).sum()}, {e})[0];
  EXPECT_GT(g.abs().sum().item<double>(), 0.0);

  // Attentions: one [B, H, T, T] per layer, rows sum to 1 over unmasked keys, padded keys get 0,
  // same logits, on the autograd path.
  attrib::AttentionOutput out = m->forward_from_embeddings_with_attentions(e, b.attention_mask);
  ASSERT_EQ(out.attentions.size(), 3u);
  EXPECT_TRUE(at::allclose(out.logits, logits, 1e-5, 1e-6));
  at::Tensor keys = b.attention_mask.to(at::kFloat).view({B, 1, 1, T});
  for (const auto& a : out.attentions) {
    ASSERT_EQ(a.sizes(), (std::vector<int64_t>{B, 4, T, T}));
    EXPECT_TRUE(at::allclose((a * keys).sum(-1), at::ones({B, 4, T}), 1e-5, 1e-5));
    EXPECT_EQ((a * (1 - keys)).abs().max().item<double>(), 0.0);
  }
  // Still on the autograd path after the JIT's profiling runs (repeated calls).
  for (int rep = 0; rep < 4; ++rep) {
    attrib::AttentionOutput o = m->forward_from_embeddings_with_attentions(e, b.attention_mask);
    auto ga = torch::autograd::grad({o.logits.select(1, 0).sum()}, o.attentions);
    for (const auto& t : ga) EXPECT_GT(t.abs().sum().item<double>(), 0.0) << "call " << rep;
    attrib::AttentionOutput oi = m->forward_with_attentions(b.inputs, b.attention_mask);
    for (const auto& a : oi.attentions) EXPECT_FALSE(a.requires_grad());
  }
  attrib::AttentionOutput from_ids = m->forward_with_attentions(b.inputs, b.attention_mask);
  for (size_t l = 0; l < 3; ++l)
    EXPECT_TRUE(at::allclose(from_ids.attentions[l], out.attentions[l], 1e-6, 1e-7));

  // Padding invariance and batch independence: each example alone, trimmed to its length.
  for (int64_t i = 0; i < B; ++i) {
    const int64_t len = b.attention_mask[i].sum().item<int64_t>();
    at::Tensor alone = logits_of(*m, [&] {
      attrib::Batch one;
      one.modality = attrib::Modality::kText;
      one.ids = {b.ids[i]};
      one.inputs = b.inputs.narrow(0, i, 1).narrow(1, 0, len);
      one.attention_mask = b.attention_mask.narrow(0, i, 1).narrow(1, 0, len);
      return one;
    }());
    EXPECT_TRUE(at::allclose(alone, logits.narrow(0, i, 1), 1e-5, 1e-5)) << "example " << i;
  }
  // Determinism.
  EXPECT_TRUE(at::equal(logits_of(*m, b), logits));

  // Label attention is not offered.
  EXPECT_THAT(error_of([&] { m->label_attention(b.inputs, b.attention_mask); }),
              HasSubstr("label attention"));
}

TEST(TextTransformer, CloneHasIndependentParameters) {
  auto [m, copy, b] = model_checks::clone_independent("text_transformer");
  // The copy can be cloned and saved too.
  auto copy2 = copy->clone();
  EXPECT_TRUE(at::equal(logits_of(*copy2, b), logits_of(*copy, b)));
  const std::string path = tmp_path("clone.pt");
  copy2->save(path);
  auto loaded = registry().create_model("torchscript", {{"path", path}}, "p");
  EXPECT_TRUE(at::equal(logits_of(*loaded, b), logits_of(*copy, b)));
  EXPECT_EQ(loaded->info().capabilities, kTextCaps) << loaded->info().capability_notes.dump();
}

TEST(TextTransformer, LayersInForwardOrderAliasParameters) {
  auto m = text_model(6);
  auto layers = m->layers();
  std::vector<std::string> names;
  for (const auto& l : layers) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"embedding", "layer0.attention", "layer0.mlp",
                                             "layer1.attention", "layer1.mlp", "classifier"}));
  EXPECT_EQ(layers.front().parameters.front().first, "tok_emb");
  EXPECT_EQ(layers[1].parameters.size(), 10u);
  EXPECT_EQ(layers[2].parameters.size(), 6u);
  EXPECT_EQ(layers.back().parameters.front().second.sizes(), (std::vector<int64_t>{2, 32}));
  // Re-initialising a layer in place changes the model.
  attrib::Batch b = synthetic_batch(4, 6);
  at::Tensor before = logits_of(*m, b);
  {
    at::NoGradGuard no_grad;
    layers[3].parameters[0].second.uniform_(-1, 1);
  }
  EXPECT_FALSE(at::equal(logits_of(*m, b), before));
}

TEST(TextTransformer, ParameterErrors) {
  EXPECT_THAT(error_of([] {
                registry().create_model("text_transformer", {{"num_classes", 2}});
              }),
              HasSubstr("'vocab' is required"));
  EXPECT_THAT(
      error_of([] {
        registry().create_model(
            "text_transformer",
            {{"vocab", synthetic_vocab()}, {"num_classes", 2}, {"d_model", 30}, {"n_heads", 4}});
      }),
      HasSubstr("d_model (30) must be divisible by n_heads (4)"));
  EXPECT_THAT(error_of([] {
                registry().create_model("text_transformer", {{"vocab", synthetic_vocab()}});
              }),
              HasSubstr("'num_classes' is required"));
  EXPECT_THAT(error_of([] {
                text_model(0, {{"pad_id", 40}});
              }),
              HasSubstr("pad_id = 40, expected -1 or an id below the vocabulary size 30"));
  EXPECT_THAT(error_of([] { text_model(0, {{"activation", "tanh"}}); }), HasSubstr("activation"));
  // Inputs longer than max_len are refused with a message.
  auto m = text_model(0, {{"max_len", 8}});
  attrib::Batch b = synthetic_batch(2, 1, 12);
  EXPECT_THAT(error_of([&] { logits_of(*m, b); }),
              HasSubstr("input has 12 tokens, expected at most max_len = 8"));
  EXPECT_THAT(error_of([&] { m->forward(b.inputs, b.attention_mask.narrow(1, 0, 4)); }),
              HasSubstr("forward: expected attention_mask [2, 12], got [2, 4]"));
}

TEST(TextTransformer, ReluVariantAndDefaults) {
  json p = text_params(0);
  p.erase("class_names");
  p["activation"] = "relu";
  p["n_layers"] = 1;
  p["d_model"] = 16;
  auto m = registry().create_model("text_transformer", p, "p");
  EXPECT_TRUE(m->info().class_names.empty());
  EXPECT_EQ(m->info().num_classes, 2);
  EXPECT_EQ(m->info().capabilities, kTextCaps) << m->info().capability_notes.dump();
  EXPECT_EQ(m->info().metadata.at("activation"), "relu");
  EXPECT_EQ(m->layers().size(), 4u);
}

// ---- torchscript plugin and TorchScriptModel checks ---------------------------------------------

TEST(TorchScriptPlugin, MissingFileNamesThePath) {
  const std::string path = tmp_path("does_not_exist.pt");
  EXPECT_THAT(error_of([&] {
                registry().create_model("torchscript", {{"path", path}});
              }),
              HasSubstr(path));
  const std::string junk = tmp_path("junk.pt");
  std::ofstream(junk) << "not a zip archive";
  const std::string msg = error_of([&] {
    registry().create_model("torchscript", {{"path", junk}});
  });
  EXPECT_THAT(msg, HasSubstr(junk));
  EXPECT_THAT(msg, HasSubstr("not a loadable TorchScript archive"));
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_THAT(error_of([] { registry().create_model("torchscript", json::object()); }),
              HasSubstr("path"));
}

TEST(TorchScriptPlugin, DeviceParameter) {
  auto m = text_model(0);
  const std::string path = tmp_path("device.pt");
  m->save(path);
  EXPECT_THAT(error_of([&] {
                registry().create_model("torchscript", {{"path", path}, {"device", "gpu0"}});
              }),
              HasSubstr("device 'gpu0' is not a device name"));
  if (!at::hasCUDA()) {
    EXPECT_THAT(error_of([&] {
                  registry().create_model("torchscript", {{"path", path}, {"device", "cuda"}});
                }),
                HasSubstr("no CUDA device"));
    EXPECT_THAT(error_of([&] {
                  text_model(0, {{"device", "cuda:0"}});
                }),
                HasSubstr("no CUDA device"));
  }
  auto cpu = registry().create_model("torchscript", {{"path", path}, {"device", "cpu"}});
  EXPECT_EQ(cpu->device(), at::Device(at::kCPU));
}

TEST(TorchScriptModel, ModuleWithoutTrainingFlag) {
  torch::jit::Module m("NoTrainingFlag");
  m.register_parameter("w", at::randn({2, 3}), false);
  m.define(R"TS(
def forward(self, x: Tensor) -> Tensor:
    return torch.matmul(x, self.w.t())
)TS");
  attrib::TorchScriptModel model(m, "no_flag");
  EXPECT_TRUE(model.has(ATTRIB_CAP_FORWARD | ATTRIB_CAP_TRAINABLE));
  attrib::Batch train;
  train.modality = attrib::Modality::kDense;
  train.inputs = at::randn({16, 3}, at::make_generator<at::CPUGeneratorImpl>(1));
  train.labels = (train.inputs.select(1, 0) > 0).to(at::kLong);
  for (int i = 0; i < 16; ++i) train.ids.push_back(std::to_string(i));
  attrib::TrainReport r = model.train(train, train, quick_options(0, 3));
  EXPECT_EQ(model.info().num_classes, 2);
  EXPECT_GE(r.epochs_run, 1);
}

TEST(TorchScriptModel, WrongLogitShapeIsAnError) {
  torch::jit::Module m("BadShape");
  m.register_attribute("training", c10::BoolType::get(), false);
  m.define(R"TS(
def forward(self, x: Tensor) -> Tensor:
    return x.sum(1)

def metadata(self) -> str:
    return '{"input_shape": [4]}'
)TS");
  EXPECT_EQ(error_of([&] { attrib::TorchScriptModel model(m, "bad.pt"); }),
            "torchscript model 'bad.pt': forward returned shape [3] Float, expected [B, C] float "
            "logits with B = 3");
}

TEST(TorchScriptModel, DenseWithInputShapeIsChecked) {
  torch::jit::Module m("Dense");
  m.register_attribute("training", c10::BoolType::get(), false);
  m.register_parameter("w", at::randn({3, 4}), false);
  m.define(R"TS(
def forward(self, x: Tensor) -> Tensor:
    return torch.tanh(torch.matmul(x, self.w.t()))

def metadata(self) -> str:
    return '{"input_shape": [4], "class_names": ["a", "b", "c"], "input_kind": "tabular"}'
)TS");
  attrib::TorchScriptModel model(m, "dense");
  EXPECT_EQ(model.info().modality, attrib::Modality::kDense);
  EXPECT_EQ(model.info().num_classes, 3);
  EXPECT_EQ(model.info().input_shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(model.info().capabilities, ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT |
                                           ATTRIB_CAP_LAYERS | ATTRIB_CAP_TRAINABLE)
      << model.info().capability_notes.dump();
  ASSERT_EQ(model.layers().size(), 1u);
  EXPECT_EQ(model.layers()[0].name, "<root>");
  EXPECT_THAT(error_of([&] {
                model.embed(at::zeros({1, 2}, at::kLong));
              }),
              HasSubstr("embeddings"));
}

TEST(TorchScriptModel, FailedChecksWithdrawCapabilitiesAndSayWhy) {
  // embed/forward_from_embeddings disagree with forward; attention ignores the mask; forward
  // couples the examples of a batch.
  torch::jit::Module m("Broken");
  m.register_attribute("training", c10::BoolType::get(), false);
  m.register_parameter("w", at::randn({10, 6}), false);
  m.register_parameter("c", at::randn({2, 6}), false);
  m.define(R"TS(
def embed(self, input_ids: Tensor) -> Tensor:
    return torch.embedding(self.w, input_ids)

def forward_from_embeddings(self, e: Tensor, attention_mask: Tensor) -> Tensor:
    m = attention_mask.unsqueeze(-1).to(e.dtype)
    return torch.matmul((e * m).sum(1), self.c.t()) * 2.0

def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    e = self.embed(input_ids)
    m = attention_mask.unsqueeze(-1).to(e.dtype)
    logits = torch.matmul((e * m).sum(1), self.c.t())
    return logits - logits.mean(0, keepdim=True)

def forward_with_attentions(self, input_ids: Tensor,
                            attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
    B = input_ids.size(0)
    T = input_ids.size(1)
    a = torch.ones([B, 1, T, T]) / T
    return self.forward(input_ids, attention_mask), [a]

def metadata(self) -> str:
    return '{"vocab_size": 10, "num_classes": 2, "capabilities": ["forward", "label_attention"]}'
)TS");
  attrib::TorchScriptModel model(m, "broken");
  const auto& info = model.info();
  EXPECT_EQ(info.modality, attrib::Modality::kText);
  EXPECT_EQ(info.capabilities, ATTRIB_CAP_FORWARD | ATTRIB_CAP_LAYERS | ATTRIB_CAP_TRAINABLE)
      << info.capability_notes.dump();
  const json& notes = info.capability_notes;
  ASSERT_TRUE(notes.contains("embeddings")) << notes.dump();
  EXPECT_THAT(notes["embeddings"].get<std::string>(),
              HasSubstr("forward_from_embeddings(embed(ids)) differs from forward(ids)"));
  ASSERT_TRUE(notes.contains("attentions")) << notes.dump();
  ASSERT_TRUE(notes.contains("forward")) << notes.dump();
  EXPECT_THAT(notes["forward"].get<std::string>(), HasSubstr("batch independence"));
  ASSERT_TRUE(notes.contains("label_attention")) << notes.dump();
  EXPECT_THAT(notes["label_attention"].get<std::string>(), HasSubstr("declared"));
  // The withdrawn methods refuse to run.
  EXPECT_THAT(error_of([&] {
                model.embed(at::zeros({1, 2}, at::kLong));
              }),
              HasSubstr("embeddings"));
}

TEST(TorchScriptModel, AttentionRowsMustSumToOneOverUnmaskedKeys) {
  torch::jit::Module m("MaskIgnored");
  m.register_attribute("training", c10::BoolType::get(), false);
  // Equal embeddings: every query attends uniformly to all keys, padded ones included. (Random
  // weights made this flaky: a large e_i . e_i can leave almost no mass on the padded keys.)
  m.register_parameter("w", at::full({10, 6}, 0.1f), false);
  m.register_parameter("c", at::arange(12, at::kFloat).view({2, 6}) / 10, false);
  m.define(R"TS(
def forward_with_attentions(self, input_ids: Tensor,
                            attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
    e = torch.embedding(self.w, input_ids)
    a = torch.softmax(torch.matmul(e, e.transpose(1, 2)), -1).unsqueeze(1)
    h = torch.matmul(a.squeeze(1), e)
    m = attention_mask.unsqueeze(-1).to(e.dtype)
    return torch.matmul((h * m).sum(1), self.c.t()), [a]

def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    logits, a = self.forward_with_attentions(input_ids, attention_mask)
    return logits

def metadata(self) -> str:
    return '{"vocab_size": 10}'
)TS");
  attrib::TorchScriptModel model(m, "mask_ignored");
  EXPECT_FALSE(model.has(ATTRIB_CAP_ATTENTIONS));
  ASSERT_TRUE(model.info().capability_notes.contains("attentions"));
  EXPECT_THAT(model.info().capability_notes["attentions"].get<std::string>(),
              HasSubstr("rows do not sum to 1 over unmasked keys"));
}

// ---- Python interop -----------------------------------------------------------------------------

TEST(PythonInterop, PythonLoadsBuiltinModelWithSameLogits) {
  REQUIRE_PYTHON_TORCH();
  model_checks::python_round_trip("text_transformer", 2);
}

TEST(PythonInterop, DenseForwardOnlyModel) {
  REQUIRE_PYTHON_TORCH();
  const std::string path = tmp_path("py_dense.pt");
  ASSERT_EQ(run_python("make_dense_mlp.py", {path}), 0);
  auto m = registry().create_model("torchscript", {{"path", path}}, "models[0].params");
  const auto& info = m->info();
  EXPECT_EQ(info.modality, attrib::Modality::kDense);
  EXPECT_TRUE(m->has(ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT));
  EXPECT_FALSE(m->has(ATTRIB_CAP_EMBEDDINGS));
  EXPECT_FALSE(m->has(ATTRIB_CAP_ATTENTIONS));
  EXPECT_FALSE(m->has(ATTRIB_CAP_LABEL_ATTENTION));
  EXPECT_EQ(info.capabilities, ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_LAYERS |
                                   ATTRIB_CAP_TRAINABLE);
  // No metadata and no input_shape: the number of classes comes with the first forward.
  EXPECT_EQ(info.num_classes, 0);
  json expected = json::parse(std::ifstream(path + ".json"));
  at::Tensor x = at::tensor({0.0f, 1.0f, 2.0f, 3.0f, -1.0f, 0.5f, 0.25f, 2.0f}).view({2, 4});
  at::Tensor logits = m->forward(x.requires_grad_(true), at::Tensor());
  EXPECT_EQ(m->info().num_classes, 3);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t c = 0; c < 3; ++c)
      EXPECT_NEAR(logits[i][c].item<double>(), expected["logits"][i][c].get<double>(), 1e-5);
  at::Tensor g = torch::autograd::grad({logits.select(1, 0).sum()}, {x})[0];
  EXPECT_GT(g.abs().sum().item<double>(), 0.0);
  // Leaf submodules with parameters, in definition order.
  auto layers = m->layers();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].name, "0");
  EXPECT_EQ(layers[1].name, "2");
  EXPECT_EQ(layers[0].parameters[0].first, "0.weight");
}

TEST(PythonInterop, TextContractModelCapabilitiesDetected) {
  REQUIRE_PYTHON_TORCH();
  const std::string path = tmp_path("py_text.pt");
  ASSERT_EQ(run_python("make_text_contract.py", {path}), 0);
  auto m = registry().create_model("torchscript", {{"path", path}}, "models[0].params");
  const auto& info = m->info();
  EXPECT_EQ(info.modality, attrib::Modality::kText);
  EXPECT_EQ(info.capabilities, ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT |
                                   ATTRIB_CAP_EMBEDDINGS | ATTRIB_CAP_ATTENTIONS |
                                   ATTRIB_CAP_LAYERS | ATTRIB_CAP_TRAINABLE)
      << info.capability_notes.dump();
  EXPECT_TRUE(info.capability_notes.empty()) << info.capability_notes.dump();
  EXPECT_EQ(info.num_classes, 3);
  EXPECT_EQ(info.vocab.size(), 12u);
  EXPECT_EQ(info.class_names.size(), 3u);
  EXPECT_EQ(info.pad_id, 0);
  EXPECT_EQ(info.mask_id, 2);
  std::vector<std::string> names;
  for (const auto& l : m->layers()) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"emb", "q", "k", "v", "out"}));
  // Not exported: forward_from_embeddings_with_attentions, label_attention.
  at::Tensor ids = at::tensor({3, 4, 5, 0}, at::kLong).view({1, 4});
  at::Tensor mask = at::tensor({1, 1, 1, 0}, at::kLong).view({1, 4});
  EXPECT_THAT(error_of([&] { m->forward_from_embeddings_with_attentions(m->embed(ids), mask); }),
              HasSubstr("forward_from_embeddings_with_attentions"));
  auto att = m->forward_with_attentions(ids, mask);
  ASSERT_EQ(att.attentions.size(), 1u);
  EXPECT_EQ(att.attentions[0].sizes(), (std::vector<int64_t>{1, 1, 4, 4}));

  // The broken variant loses the embeddings capability (and so input gradients), with a reason.
  const std::string broken = tmp_path("py_text_broken.pt");
  ASSERT_EQ(run_python("make_text_contract.py", {broken, "--broken"}), 0);
  auto b = registry().create_model("torchscript", {{"path", broken}}, "models[0].params");
  EXPECT_FALSE(b->has(ATTRIB_CAP_EMBEDDINGS));
  EXPECT_FALSE(b->has(ATTRIB_CAP_INPUT_GRADIENT));
  EXPECT_TRUE(b->has(ATTRIB_CAP_ATTENTIONS));
  ASSERT_TRUE(b->info().capability_notes.contains("embeddings"));
  EXPECT_THAT(b->info().capability_notes["embeddings"].get<std::string>(),
              HasSubstr("differs from forward(ids): max |diff| 0.5"));
}

TEST(PythonInterop, TorchscriptPluginTrainsAPythonModel) {
  REQUIRE_PYTHON_TORCH();
  const std::string path = tmp_path("py_text_train.pt");
  ASSERT_EQ(run_python("make_text_contract.py", {path}), 0);
  auto m = registry().create_model("torchscript", {{"path", path}}, "models[0].params");
  // 12-token vocabulary: restrict the synthetic ids to it.
  attrib::Batch train = synthetic_batch(64, 1), val = synthetic_batch(16, 2);
  train.inputs = train.inputs.remainder(12);
  val.inputs = val.inputs.remainder(12);
  train.labels = train.labels.remainder(3);
  val.labels = val.labels.remainder(3);
  auto before = all_params(*m)[0].clone();
  attrib::TrainReport r = m->train(train, val, quick_options(0, 2));
  EXPECT_GE(r.epochs_run, 1);
  EXPECT_FALSE(at::equal(before, all_params(*m)[0]));
  m->save(tmp_path("py_text_trained.pt"));
  auto reloaded =
      registry().create_model("torchscript", {{"path", tmp_path("py_text_trained.pt")}}, "p");
  EXPECT_TRUE(at::equal(logits_of(*reloaded, val), logits_of(*m, val)));
}

// ---- Python interop: trained built-in dense models ---------------------------------------------

namespace {

// A tensor as nested JSON arrays of numbers.
json nested(const at::Tensor& t) {
  if (t.dim() == 0) return t.item<double>();
  json out = json::array();
  for (int64_t i = 0; i < t.size(0); ++i) out.push_back(nested(t[i]));
  return out;
}

// `n` 8 x 8 one-channel images: uniform noise in [0, 0.2) plus 1 on one 4 x 4 quadrant, the
// top-left one for class 1 and the bottom-right one for class 0.
attrib::Batch quadrant_images(int64_t n, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  attrib::Batch b;
  b.inputs = at::rand({n, 1, 8, 8}, gen) * 0.2;
  b.labels = at::randint(2, {n}, gen, at::kLong);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t o = b.labels[i].item<int64_t>() == 1 ? 0 : 4;
    b.inputs[i].slice(1, o, o + 4).slice(2, o, o + 4).add_(1.0);
    b.ids.push_back("img" + std::to_string(seed) + "_" + std::to_string(i));
  }
  return b;
}

struct DenseSplits {
  attrib::Batch train, val, test;
};

// synthetic:tabular_linear with 6 features, 200 / 40 / 40 examples, 2 classes.
const DenseSplits& tabular_splits() {
  static const DenseSplits s = [] {
    const attrib::Dataset d =
        attrib::load_dataset("tab", "synthetic:tabular_linear",
                             {{"n_train", 200}, {"n_val", 40}, {"n_test", 40}, {"n_features", 6}});
    auto all = [&](const std::vector<attrib::DenseExample>& e) {
      return attrib::collate_dense(e, 0, e.size(), d.feature_shape);
    };
    return DenseSplits{all(d.dense_train), all(d.dense_val), all(d.dense_test)};
  }();
  return s;
}

// Trains `plugin` for 3 epochs, saves it, loads it in Python with torch.jit.load, checks the
// metadata it parses there and that Python's logits on the test inputs equal attrib's.
void expect_python_reproduces_trained(const std::string& plugin, const json& params,
                                      const DenseSplits& data) {
  auto m = registry().create_model(plugin, params, "models[0].params");
  const at::Tensor before = logits_of(*m, data.test);
  const attrib::TrainReport r = m->train(data.train, data.val, quick_options(0, 3));
  EXPECT_GE(r.epochs_run, 1);
  const at::Tensor logits = logits_of(*m, data.test);
  EXPECT_FALSE(at::allclose(before, logits));  // training moved the weights
  const std::string path = tmp_path("py_trained_" + plugin + ".pt");
  m->save(path);
  const std::string in = path + ".inputs.json", out = path + ".out.json";
  std::ofstream(in) << json{{"inputs", nested(data.test.inputs)}}.dump();
  ASSERT_EQ(run_python("run_logits.py", {path, in, out}), 0);
  const json result = json::parse(std::ifstream(out));
  const json& meta = result["metadata"];
  ASSERT_TRUE(meta.is_object()) << result.dump();
  EXPECT_EQ(meta["model"], plugin);
  EXPECT_EQ(meta["input_kind"], "dense");
  EXPECT_EQ(meta["num_classes"], 2);
  EXPECT_EQ(meta["input_shape"].get<std::vector<int64_t>>(),
            data.test.inputs.sizes().slice(1).vec());
  EXPECT_TRUE(meta["architecture"].is_array() && !meta["architecture"].empty()) << meta.dump();
  ASSERT_EQ(result["logits"].size(), static_cast<size_t>(logits.size(0)));
  double max_diff = 0;
  for (int64_t i = 0; i < logits.size(0); ++i) {
    ASSERT_EQ(result["logits"][i].size(), 2u);
    for (int64_t k = 0; k < 2; ++k)
      max_diff = std::max(
          max_diff, std::abs(result["logits"][i][k].get<double>() - logits[i][k].item<double>()));
  }
  EXPECT_LE(max_diff, 1e-5);
}

}  // namespace

TEST(PythonInterop, TrainedLogisticRegressionLoadsInPythonWithSameLogits) {
  REQUIRE_PYTHON_TORCH();
  expect_python_reproduces_trained("logistic_regression",
                                   {{"num_features", 6}, {"class_names", {"negative", "positive"}}},
                                   tabular_splits());
}

TEST(PythonInterop, TrainedTabularMlpLoadsInPythonWithSameLogits) {
  REQUIRE_PYTHON_TORCH();
  expect_python_reproduces_trained("tabular_mlp",
                                   {{"num_features", 6}, {"num_classes", 2}, {"hidden", {8, 8}}},
                                   tabular_splits());
}

TEST(PythonInterop, TrainedImageCnnLoadsInPythonWithSameLogits) {
  REQUIRE_PYTHON_TORCH();
  const DenseSplits images{quadrant_images(96, 1), quadrant_images(32, 2), quadrant_images(8, 3)};
  expect_python_reproduces_trained(
      "image_cnn",
      {{"input_shape", {1, 8, 8}}, {"num_classes", 2}, {"channels", {2, 4}}, {"hidden", 8}},
      images);
}

// ---- Python interop: a Hugging-Face-style export explained through `attrib explain` ------------

namespace {

// `attrib explain ARGS --json`, parsed; null (and a test failure) when it exits non-zero.
json explain_cli(const std::string& args, const std::string& tag) {
  const std::string out = tmp_path(tag + ".out"), err = tmp_path(tag + ".err");
  const std::string cmd =
      "'" ATTRIB_BIN "' explain " + args + " --json >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  if (status != 0) {
    std::ifstream in(err);
    std::stringstream ss;
    ss << in.rdbuf();
    ADD_FAILURE() << cmd << " exited with " << status << ":\n" << ss.str();
    return json();
  }
  return json::parse(std::ifstream(out));
}

void expect_near_each(const json& got, const json& want, double tol, const std::string& what) {
  ASSERT_TRUE(got.is_array()) << what << ": " << got.dump();
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i].get<double>(), want[i].get<double>(), tol) << what << "[" << i << "]";
}

}  // namespace

// tests/python/make_hf_style_model.py writes a BERT-like classifier in Hugging Face's style (not
// this project's code) behind a wrapper with @torch.jit.export contract methods, and the numbers
// Python's autograd gives for one input. Gradient and attention methods run on it through the
// torchscript adapter and the CLI and must reproduce them.
TEST(PythonInterop, HuggingFaceStyleExportGradientAndAttentionMethods) {
  REQUIRE_PYTHON_TORCH();
  const std::string path = tmp_path("py_hf.pt"), expected_path = tmp_path("py_hf_expected.json");
  const std::string text = "[CLS] the movie was not great";
  ASSERT_EQ(run_python("make_hf_style_model.py", {path, expected_path, text, "1"}), 0);
  const json x = json::parse(std::ifstream(expected_path));
  auto m = registry().create_model("torchscript", {{"path", path}}, "models[0].params");
  EXPECT_TRUE(m->has(ATTRIB_CAP_EMBEDDINGS | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_ATTENTIONS))
      << m->info().capability_notes.dump();
  EXPECT_TRUE(m->info().capability_notes.empty()) << m->info().capability_notes.dump();

  const std::string common = "--model 'torchscript:" + path + "' --text '" + text + "' --target 1";
  auto run = [&](const std::string& method) {
    return explain_cli(common + " --method " + method, "py_hf_" + method);
  };

  // Saliency: |d logit_1 / d embeddings| per element, summed per token.
  const json sal = run("saliency");
  ASSERT_TRUE(sal.is_object());
  EXPECT_EQ(sal["tokens"], json(attrib::whitespace_tokens(text)));
  expect_near_each(sal["logits"][0], x["logits"], 1e-5, "logits");
  expect_near_each(sal["token_scores"][0], x["saliency"], 1e-5, "saliency");
  const json& grad = x["gradient"];
  ASSERT_EQ(sal["attributions"][0].size(), grad.size());
  for (size_t t = 0; t < grad.size(); ++t) {
    json abs_grad = json::array();
    for (const auto& g : grad[t]) abs_grad.push_back(std::abs(g.get<double>()));
    expect_near_each(sal["attributions"][0][t], abs_grad, 1e-6,
                     "|gradient|[" + std::to_string(t) + "]");
  }

  // Integrated gradients from the zero baseline: Python's 50-node Gauss-Legendre per token, and
  // completeness: sum = f(x) - f(0) + the reported convergence delta.
  const json ig = run("integrated_gradients");
  ASSERT_TRUE(ig.is_object());
  expect_near_each(ig["token_scores"][0], x["ig"], 1e-5, "integrated_gradients");
  const double fx = ig["logits"][0][1], f0 = x["f_zero"], sum = ig["sum"][0];
  const double delta = ig["extras"]["convergence_delta"][0];
  EXPECT_GT(std::abs(fx - f0), 0.1);  // not a vacuous check
  EXPECT_NEAR(delta, sum - (fx - f0), 1e-6);
  EXPECT_LT(std::abs(delta), 1e-4);

  // Attention maps: last layer, heads and real-token rows averaged; rollout; Chefer et al.
  const json att = run("attention");
  ASSERT_TRUE(att.is_object());
  expect_near_each(att["token_scores"][0], x["attention"], 1e-6, "attention");
  const json roll = run("attention_rollout");
  ASSERT_TRUE(roll.is_object());
  expect_near_each(roll["token_scores"][0], x["rollout"], 1e-6, "attention_rollout");
  const json gxa = run("grad_x_attention");
  ASSERT_TRUE(gxa.is_object());
  EXPECT_EQ(gxa["info"]["graph_start"], "embeddings");
  expect_near_each(gxa["token_scores"][0], x["grad_x_attention"], 1e-6, "grad_x_attention");
}
