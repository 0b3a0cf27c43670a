// Rule-based methods (deeplift, lrp, guided_backprop), the sequential-architecture SDK helper they
// share (attrib/sequential.h) and the built-in dense models that expose it (logistic_regression,
// tabular_mlp, image_cnn). Known answers are worked out by hand on tiny networks whose weights are
// written below; the models are trained on small synthetic sets built here.
#include <ATen/CPUGeneratorImpl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/script.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "analytic_models.h"
#include "attrib/error.h"
#include "attrib/sequential.h"
#include "attrib/torchscript_model.h"
#include "registry.h"

using nlohmann::json;
using ::testing::HasSubstr;

namespace {

using namespace attrib_test;
using Params = std::vector<std::pair<std::string, at::Tensor>>;

at::Tensor t2(std::vector<float> v, int64_t rows, int64_t cols) {
  return at::tensor(v).view({rows, cols});
}

// A TorchScriptModel built with attrib::sequential_module from hand-written weights.
std::unique_ptr<attrib::TorchScriptModel> hand_model(const json& arch, const Params& params,
                                                     std::vector<int64_t> input_shape,
                                                     const std::string& name = "hand") {
  json meta = {{"input_kind", "dense"}, {"input_shape", input_shape}};
  return std::make_unique<attrib::TorchScriptModel>(
      attrib::sequential_module("Hand", arch, params, meta), name);
}

// A TorchScript module with its own forward source and arbitrary metadata (for mismatches).
std::unique_ptr<attrib::TorchScriptModel> scripted(const std::string& forward_source,
                                                   const Params& params, const json& meta,
                                                   const std::string& name) {
  torch::jit::Module m("Scripted");
  m.register_attribute("training", c10::BoolType::get(), false);
  for (const auto& [n, t] : params) m.register_parameter(n, t.clone(), false);
  m.register_attribute("metadata_json", c10::StringType::get(), meta.dump());
  m.define(forward_source + "\ndef metadata(self) -> str:\n    return self.metadata_json\n");
  return std::make_unique<attrib::TorchScriptModel>(m, name);
}

// f = W x + b, W = [[1, -2, 3], [0.5, 1, -1]], b = [0.25, -0.5] (the analytic linear model).
std::unique_ptr<attrib::TorchScriptModel> linear_net() {
  return hand_model(json::array({{{"op", "linear"}, {"params", {"w", "b"}}}}),
                    {{"w", t2({1, -2, 3, 0.5, 1, -1}, 2, 3)}, {"b", at::tensor({0.25f, -0.5f})}},
                    {3}, "hand_linear");
}

// 2-3-1 ReLU MLP: z = W1 x + b1, W1 = [[1, -1], [2, 1], [-1, 1]], b1 = [0, -1, 0.5];
// f = W2 relu(z) + b2, W2 = [[1, 2, -1]], b2 = [0.1].
std::unique_ptr<attrib::TorchScriptModel> mlp_231() {
  const json arch = json::array({{{"op", "linear"}, {"params", {"w1", "b1"}}},
                                 {{"op", "relu"}},
                                 {{"op", "linear"}, {"params", {"w2", "b2"}}}});
  return hand_model(arch,
                    {{"w1", t2({1, -1, 2, 1, -1, 1}, 3, 2)},
                     {"b1", at::tensor({0.0f, -1.0f, 0.5f})},
                     {"w2", t2({1, 2, -1}, 1, 3)},
                     {"b2", at::tensor({0.1f})}},
                    {2}, "mlp_231");
}

// 2-2-1 ReLU MLP without biases: W1 = [[1, -1], [-1, 3]], W2 = [[1, 2]].
std::unique_ptr<attrib::TorchScriptModel> mlp_221() {
  const json arch = json::array({{{"op", "linear"}, {"params", {"w1"}}},
                                 {{"op", "relu"}},
                                 {{"op", "linear"}, {"params", {"w2"}}}});
  return hand_model(arch, {{"w1", t2({1, -1, -1, 3}, 2, 2)}, {"w2", t2({1, 2}, 1, 2)}}, {2},
                    "mlp_221");
}

const attrib::Registry& reg() { return attrib_test::registry(); }

std::shared_ptr<attrib::ModelAdapter> builtin(const std::string& plugin, const json& params) {
  return reg().create_model(plugin, params, "models[0].params");
}

at::Generator gen(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

std::vector<std::string> ids(int64_t n, const std::string& prefix) {
  std::vector<std::string> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

attrib::Batch labelled(const at::Tensor& x, const at::Tensor& y, const std::string& prefix) {
  attrib::Batch b = dense_batch(x, ids(x.size(0), prefix));
  b.labels = y;
  return b;
}

at::Tensor logits(attrib::ModelAdapter& m, const at::Tensor& x) {
  at::NoGradGuard no_grad;
  return m.forward(x, at::Tensor());
}

double max_abs(const at::Tensor& t) { return t.abs().max().to(at::kDouble).item<double>(); }

std::string tmp_path(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(ATTRIB_TEST_TMP) / "rule_methods";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

attrib::TrainOptions options(int64_t epochs, double lr) {
  attrib::TrainOptions o;
  o.epochs = epochs;
  o.batch_size = 32;
  o.learning_rate = lr;
  o.patience = 8;
  o.seed = 3;
  return o;
}

// Saves `m`, reloads it through the `torchscript` plugin and checks equal logits and the
// architecture's survival.
void expect_reloads(attrib::ModelAdapter& m, const at::Tensor& x, const std::string& file) {
  const std::string path = tmp_path(file);
  m.save(path);
  auto loaded = builtin("torchscript", {{"path", path}});
  EXPECT_TRUE(logits(*loaded, x).equal(logits(m, x))) << file;
  EXPECT_EQ(loaded->info().metadata["architecture"], m.info().metadata["architecture"]);
  EXPECT_EQ(loaded->info().capabilities, m.info().capabilities);
  attrib::SequentialNetwork net(*loaded, x);
  EXPECT_LT(net.verified_max_diff(), 1e-5);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Plugins and the SDK helper.

TEST(RuleMethods, PluginsLoadWithMetadata) {
  for (const char* name : {"deeplift", "lrp", "guided_backprop"}) {
    const attrib::PluginInfo* p = reg().find(name, ATTRIB_KIND_METHOD);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->capabilities, ATTRIB_CAP_FORWARD | ATTRIB_CAP_LAYERS) << name;
    for (const char* key : {"description", "citation", "params", "cost", "extras"})
      EXPECT_TRUE(p->metadata.contains(key)) << name << " lacks " << key;
    EXPECT_NO_THROW(reg().create_method(name, json::object())) << name;
  }
  for (const char* name : {"logistic_regression", "tabular_mlp", "image_cnn"}) {
    const attrib::PluginInfo* p = reg().find(name, ATTRIB_KIND_MODEL);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->capabilities, ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT | ATTRIB_CAP_LAYERS |
                                   ATTRIB_CAP_TRAINABLE)
        << name;
  }
  EXPECT_THAT(error_of([] {
                reg().create_method("lrp", {{"alpha", 2.0}, {"beta", 0.5}});
              }),
              HasSubstr("lrp: expected alpha - beta = 1 (e.g. alpha 1, beta 0 or alpha 2, beta 1), "
                        "got alpha = 2, beta = 0.5"));
  EXPECT_THAT(error_of([] { reg().create_method("lrp", {{"rule", "flat"}}); }), HasSubstr("rule"));
}

TEST(RuleMethods, SequentialForwardEqualsModelForward) {
  auto mlp = builtin("tabular_mlp", {{"num_features", 5}, {"num_classes", 3}, {"seed", 4}});
  auto cnn = builtin("image_cnn", {{"num_classes", 2}, {"seed", 4}});
  const at::Tensor xt = at::randn({7, 5}, gen(1));
  const at::Tensor xi = at::randn({3, 1, 28, 28}, gen(2));
  const attrib::SequentialNetwork net_mlp(*mlp, xt), net_cnn(*cnn, xi);
  EXPECT_EQ(net_mlp.summary(), "linear(5->64) relu linear(64->64) relu linear(64->3)");
  EXPECT_EQ(net_cnn.summary(),
            "conv2d(1->8, k3, s1, p1) relu maxpool2d(k2, s2) conv2d(8->16, k3, s1, p1) relu "
            "maxpool2d(k2, s2) flatten linear(784->64) relu linear(64->2)");
  EXPECT_EQ(net_mlp.probe_rows(), 7);
  EXPECT_LT(max_abs(net_mlp.forward(xt) - logits(*mlp, xt)), 1e-6);
  EXPECT_LT(max_abs(net_cnn.forward(xi) - logits(*cnn, xi)), 1e-6);
  // Activations: one per op plus the input; float64 copies agree with float32.
  const auto acts = net_cnn.cast(at::kDouble).activations(xi.to(at::kDouble));
  ASSERT_EQ(acts.size(), net_cnn.ops().size() + 1);
  EXPECT_EQ(acts[3].sizes(), (std::vector<int64_t>{3, 8, 14, 14}));
  EXPECT_LT(max_abs(acts.back() - logits(*cnn, xi).to(at::kDouble)), 1e-4);
  // Backward of each op is the autograd vector-Jacobian product.
  const auto a32 = net_cnn.activations(xi);
  for (size_t k = 0; k < net_cnn.ops().size(); ++k) {
    const attrib::SequentialOp& op = net_cnn.ops()[k];
    const at::Tensor g = at::randn(a32[k + 1].sizes(), gen(10 + k));
    at::AutoGradMode on(true);
    const at::Tensor in = a32[k].detach().clone().requires_grad_(true);
    const at::Tensor ref = torch::autograd::grad({(op.forward(in) * g).sum()}, {in})[0];
    EXPECT_LT(max_abs(op.backward(a32[k], g) - ref), 1e-5) << "op " << k << " " << op.name();
  }
  // The ops alias the model's parameters: changing a weight in place changes both.
  {
    at::NoGradGuard no_grad;
    mlp->layers()[0].parameters[1].second.fill_(0.5);
  }
  EXPECT_LT(max_abs(net_mlp.forward(xt) - logits(*mlp, xt)), 1e-6);
}

TEST(RuleMethods, ArchitectureErrorsNameTheOpAndWhatWasFound) {
  const Params p = {{"w", t2({1, -1, -2, 1}, 2, 2)}, {"b", at::tensor({0.0f, -5.0f})}};
  const std::string fwd =
      "def forward(self, x: Tensor) -> Tensor:\n    return torch.relu(torch.linear(x, self.w, "
      "self.b))\n";
  auto with = [&](const json& arch) {
    return scripted(fwd, p,
                    {{"input_shape", {2}},
                     {"layers", json::array({{{"name", "fc"}, {"params", {"w", "b"}}}})},
                     {"architecture", arch}},
                    "scripted");
  };
  const at::Tensor probe = t2({1, 1}, 1, 2);  // linear: [0, -6]; relu: [0, 0]
  auto error = [&](const json& arch) {
    auto m = with(arch);
    return error_of([&] { attrib::SequentialNetwork net(*m, probe); });
  };
  EXPECT_THAT(error(json::array({{{"op", "linear"}, {"params", {"w", "b"}}}})),
              HasSubstr("model 'scripted': metadata.architecture does not reproduce forward: max "
                        "|logit diff| 6 > tolerance 0.0001 on 1 probe rows"));
  EXPECT_EQ(error(json::array({{{"op", "linear"}, {"params", {"w", "b"}}}, {{"op", "relu"}}})),
            "<no attrib::Error thrown>");
  EXPECT_EQ(error(json::array({{{"op", "linear"}, {"params", {"w", "b"}}}, {{"op", "tanh"}}})),
            "metadata.architecture[1]: unknown op \"tanh\" (known: conv2d, flatten, linear, "
            "maxpool2d, relu)");
  EXPECT_EQ(error(json::array({{{"op", "linear"}, {"params", {"w", "nope"}}}})),
            "metadata.architecture[0] (linear): parameter 'nope' is not a tensor of the model's "
            "layers() (has: b, w)");
  EXPECT_EQ(error(json::array({{{"op", "linear"}, {"params", {"b"}}}})),
            "metadata.architecture[0] (linear): weight 'b': expected 2 dimensions [out, in], got "
            "[2]");
  EXPECT_EQ(error(json::array(
                {{{"op", "linear"}, {"params", {"w", "b"}}}, {{"op", "relu"}, {"inplace", true}}})),
            "metadata.architecture[1] (relu): unknown key \"inplace\" (known: op)");
  EXPECT_EQ(error(json::array({{{"op", "maxpool2d"}}})),
            "metadata.architecture[0] (maxpool2d): missing \"kernel\" (expected an integer >= 1)");
  EXPECT_EQ(error(json::array({{{"op", "linear"}}})),
            "metadata.architecture[0] (linear): \"params\": expected [weight] or [weight, bias] "
            "parameter names, got nothing");
  EXPECT_THAT(error(json::array({{{"op", "linear"}, {"params", {"w", "b"}}},
                                 {{"op", "maxpool2d"}, {"kernel", 2}}})),
              HasSubstr("metadata.architecture[1] (maxpool2d): forward failed on input of shape "
                        "[1, 2]"));
  EXPECT_THAT(error(json::array()), HasSubstr("expected a non-empty list of ops"));
}

TEST(RuleMethods, ModelsWithoutArchitectureGiveOneClearError) {
  auto plain = scripted(
      "def forward(self, x: Tensor) -> Tensor:\n    return torch.linear(x, "
      "self.w, self.b)\n",
      {{"w", t2({1, 2}, 1, 2)}, {"b", at::tensor({0.0f})}}, {{"input_shape", {2}}}, "plain");
  const attrib::Batch batch = dense_batch(t2({1, 2}, 1, 2), {"a"});
  TextModel text;
  for (const char* method : {"deeplift", "lrp", "guided_backprop"}) {
    EXPECT_EQ(error_of([&] { run(method, {}, *plain, batch, kTarget0); }),
              "model 'plain' exposes no sequential architecture (metadata.architecture); "
              "deeplift/lrp/guided_backprop need it")
        << method;
    EXPECT_EQ(error_of([&] { run(method, {}, text, text_batch(), at::zeros({2}, at::kLong)); }),
              "model 'tiny_text' exposes no sequential architecture (metadata.architecture); "
              "deeplift/lrp/guided_backprop need it")
        << method;
  }
}

// ---------------------------------------------------------------------------------------------
// DeepLIFT.

TEST(RuleMethods, DeepLiftOnLinearModelIsInputMinusBaselineTimesWeight) {
  auto model = linear_net();
  // x = [2, 1, 0.5], baseline 0.5: x - x' = [1.5, 0.5, 0].
  // Class 0, w = [1, -2, 3]: [1.5, -1, 0]. Class 1, w = [0.5, 1, -1]: [0.75, 0.5, 0].
  const at::Tensor x = t2({2, 1, 0.5, 2, 1, 0.5}, 2, 3);
  const attrib::Explanation e = run("deeplift", {{"baseline_value", 0.5}}, *model,
                                    dense_batch(x, {"a", "b"}), at::tensor({0, 1}, at::kLong));
  expect_near(e.attributions, {1.5, -1, 0, 0.75, 0.5, 0}, 1e-12);
  expect_near(e.extras.at("convergence_delta"), {0, 0}, 1e-12);
  EXPECT_EQ(e.forward_rows, 2 * 2 + 1);
  EXPECT_EQ(e.backward_rows, 2);
  EXPECT_EQ(e.info["baseline_value"], 0.5);
  EXPECT_EQ(e.info["architecture"], "linear(3->2)");
  // multiply_by_inputs = false returns the multipliers, here the weights.
  const attrib::Explanation m = run("deeplift", {{"multiply_by_inputs", false}}, *model,
                                    dense_batch(x, {"a", "b"}), at::tensor({0, 1}, at::kLong));
  expect_near(m.attributions, {1, -2, 3, 0.5, 1, -1}, 1e-12);

  // The logistic_regression plugin, zero baseline: x * w_y with w from its layers().
  auto lr = builtin("logistic_regression", {{"num_features", 4}, {"num_classes", 3}, {"seed", 2}});
  const at::Tensor xr = at::randn({3, 4}, gen(5));
  const at::Tensor y = at::tensor({2, 0, 1}, at::kLong);
  const at::Tensor w = lr->layers()[0].parameters[0].second;
  const attrib::Explanation d = run("deeplift", {}, *lr, dense_batch(xr, ids(3, "r")), y);
  expect_close(d.attributions, xr * w.index_select(0, y), 1e-6);
}

TEST(RuleMethods, DeepLiftSummationToDeltaOnReluMlp) {
  auto model = mlp_231();
  // x = [2, 1], x' = 0. z = W1 x + b1 = [1, 4, -0.5], z' = b1 = [0, -1, 0.5];
  // relu: [1, 4, 0] and [0, 0, 0.5]; Δz = [1, 5, -1], Δh = [1, 4, -0.5]; rescale [1, 0.8, 0.5].
  // m_h = W2 = [1, 2, -1] -> m_z = [1, 1.6, -0.5] -> m_x = m_z W1 = [1 + 3.2 + 0.5, -1 + 1.6 - 0.5]
  // = [4.7, 0.1]; attributions x * m_x = [9.4, 0.1], sum 9.5 = f(x) - f(0) = 9.1 - (-0.4).
  // (Input x gradient differs: [10, 1], sum 11.)
  const attrib::Explanation e =
      run("deeplift", {}, *model, dense_batch(t2({2, 1}, 1, 2), {"a"}), kTarget0);
  expect_near(e.attributions, {9.4, 0.1}, 1e-6);
  expect_near(e.extras.at("convergence_delta"), {0}, 1e-6);

  // Random MLP and CNN (max-pooling), nonzero baseline: Σ attributions = f(x) - f(x').
  auto mlp = builtin("tabular_mlp", {{"num_features", 6}, {"num_classes", 3}, {"seed", 7}});
  auto cnn = builtin("image_cnn", {{"input_shape", {2, 12, 10}}, {"num_classes", 3}, {"seed", 7}});
  const at::Tensor xm = at::randn({5, 6}, gen(8)), xc = at::randn({4, 2, 12, 10}, gen(9));
  for (auto& [model_ptr, x] : std::vector<std::pair<attrib::ModelAdapter*, at::Tensor>>{
           {mlp.get(), xm}, {cnn.get(), xc}}) {
    const int64_t b = x.size(0);
    const at::Tensor y = at::arange(b, at::kLong).remainder(3);
    const attrib::Explanation d =
        run("deeplift", {{"baseline_value", 0.3}}, *model_ptr, dense_batch(x, ids(b, "x")), y);
    ASSERT_EQ(d.attributions.sizes(), x.sizes());
    const at::Tensor fx = attrib::select_targets(logits(*model_ptr, x), y).to(at::kDouble);
    const at::Tensor f0 =
        attrib::select_targets(logits(*model_ptr, at::full_like(x, 0.3)), y).to(at::kDouble);
    EXPECT_LT(max_abs(d.extras.at("convergence_delta")), 1e-9) << model_ptr->info().name;
    EXPECT_LT(max_abs(d.attributions.flatten(1).sum(1) - (fx - f0)), 1e-4)
        << model_ptr->info().name;
    EXPECT_GT(max_abs(fx - f0), 1e-3);  // not a vacuous check
  }

  // Independent check on the MLP with random biases: autograd through the stop-gradient form of
  // METHODS.md §1.6, where each ReLU outputs z sg(m) + sg(relu(z) - z m) with m = Δrelu / Δz.
  {
    at::NoGradGuard no_grad;
    for (const auto& layer : mlp->layers()) layer.parameters[1].second.uniform_(-1, 1, gen(15));
  }
  const attrib::SequentialNetwork net = attrib::SequentialNetwork(*mlp, xm).cast(at::kDouble);
  const at::Tensor y = at::arange(5, at::kLong).remainder(3);
  at::AutoGradMode grad_on(true);
  const at::Tensor xd = xm.to(at::kDouble).requires_grad_(true);
  at::Tensor h = xd, r = at::full_like(xd, 0.3);
  for (const auto& op : net.ops()) {
    if (op.kind != attrib::SequentialOp::Kind::kRelu) {
      h = op.forward(h);
      r = op.forward(r);
      continue;
    }
    const at::Tensor dz = (h - r).detach();
    const at::Tensor m = at::where(dz.abs() > 1e-10, (at::relu(h) - at::relu(r)).detach() / dz,
                                   h.gt(0).to(h.dtype()))
                             .detach();
    h = h * m + (at::relu(h) - h * m).detach();
    r = at::relu(r);
  }
  const at::Tensor g =
      torch::autograd::grad({attrib::select_targets(h, y).sum()}, {xd})[0].detach();
  const attrib::Explanation d =
      run("deeplift", {{"baseline_value", 0.3}}, *mlp, dense_batch(xm, ids(5, "x")), y);
  expect_close(d.attributions, (xm.to(at::kDouble) - 0.3) * g, 1e-10);
}

// ---------------------------------------------------------------------------------------------
// LRP.

TEST(RuleMethods, LrpZeroEqualsInputTimesGradientByHand) {
  auto model = mlp_231();
  // ε = 0 (LRP-0). f(x = [2, 1]) = 9.1. Output layer: z = 9.1, s = 9.1 / 9.1 = 1,
  // R_h = h * W2^T s = [1, 4, 0] * [1, 2, -1] = [1, 8, 0] (the bias keeps 0.1). ReLU passes it.
  // First layer: z = [1, 4, -0.5], s = R / z = [1, 2, 0]; W1^T s = [1 + 4, -1 + 2] = [5, 1];
  // R_x = x * [5, 1] = [10, 1]: gradient x input. Gap: 11 - 9.1 = 1.9 (bias b1 = -1 adds
  // relevance).
  const attrib::Explanation e =
      run("lrp", {{"epsilon", 0.0}}, *model, dense_batch(t2({2, 1}, 1, 2), {"a"}), kTarget0);
  expect_near(e.attributions, {10, 1}, 1e-6);
  expect_near(e.extras.at("conservation_gap"), {1.9}, 1e-6);
  EXPECT_EQ(e.info["layer_rules"], json({"linear: epsilon", "linear: epsilon"}));
  EXPECT_EQ(e.info["initial_relevance"], "target logit f_y(x) at class y");
  EXPECT_EQ(e.forward_rows, 2);
  EXPECT_EQ(e.backward_rows, 1);
  // Leaving the biases out of z conserves: output layer z = 9, R_h = [1, 8, 0] * 9.1 / 9; first
  // layer z = [1, 5, -1], s = [9.1 / 9, 8 * 9.1 / 9 / 5, 0]; the input relevance sums to 9.1.
  const attrib::Explanation nb = run("lrp", {{"epsilon", 0.0}, {"set_bias_to_zero", true}}, *model,
                                     dense_batch(t2({2, 1}, 1, 2), {"a"}), kTarget0);
  const double r = 9.1 / 9;
  expect_near(nb.attributions, {2 * (r + 2 * 1.6 * r), 1 * (-r + 1.6 * r)}, 1e-6);
  expect_near(nb.extras.at("conservation_gap"), {0}, 1e-6);
}

TEST(RuleMethods, LrpAlphaBetaByHandOnTwoTwoOneNet) {
  auto model = mlp_221();
  const attrib::Batch batch = dense_batch(t2({2, 1}, 1, 2), {"a"});
  // x = [2, 1]: z = W1 x = [2 - 1, -2 + 3] = [1, 1], h = [1, 1]; f = 1 + 2 = 3.
  // α = 1, β = 0 (z+). Output: contributions h * W2 = [1, 2], all positive: R_h = [1, 2].
  // Unit 0 (R = 1): contributions [2, -1] -> positive [2, 0], z+ = 2 -> [1, 0].
  // Unit 1 (R = 2): contributions [-2, 3] -> positive [0, 3], z+ = 3 -> [0, 2]. R_x = [1, 2].
  const attrib::Explanation zp =
      run("lrp", {{"rule", "alpha_beta"}, {"alpha", 1.0}, {"beta", 0.0}, {"stabilizer", 0.0}},
          *model, batch, kTarget0);
  expect_near(zp.attributions, {1, 2}, 1e-12);
  expect_near(zp.extras.at("conservation_gap"), {0}, 1e-12);
  // α = 2, β = 1. Output: no negative contributions (z- = 0, its share dropped):
  // R_h = 2 * [1, 2] / 3 * 3 = [2, 4].
  // Unit 0 (R = 2): z+ = 2, z- = -1: 2 * [2, 0] / 2 * 2 - 1 * [0, -1] / (-1) * 2 = [4, -2].
  // Unit 1 (R = 4): z+ = 3, z- = -2: 2 * [0, 3] / 3 * 4 - 1 * [-2, 0] / (-2) * 4 = [-4, 8].
  // R_x = [0, 6].
  const attrib::Explanation ab =
      run("lrp", {{"rule", "alpha_beta"}, {"stabilizer", 0.0}}, *model, batch, kTarget0);
  expect_near(ab.attributions, {0, 6}, 1e-12);
  EXPECT_EQ(ab.info["alpha"], 2.0);
  // LRP-0 on the same net differs: unit 0 gives [2, -1] * 1, unit 1 [-2, 3] * 2: [-2, 5].
  expect_near(run("lrp", {{"epsilon", 0.0}}, *model, batch, kTarget0).attributions, {-2, 5}, 1e-12);
  // γ = 0.5, a >= 0, z > 0: weights w + γ w+. Output: W2' = [1.5, 3], z' = 4.5,
  // R_h = [1.5, 3] / 4.5 * 3 = [1, 2]. Unit 0: w' = [1.5, -1], contributions [3, -1], z' = 2
  // -> [1.5, -0.5]. Unit 1: w' = [-1, 4.5], contributions [-2, 4.5], z' = 2.5 -> [-1.6, 3.6].
  // R_x = [-0.1, 3.1].
  const attrib::Explanation g =
      run("lrp", {{"rule", "gamma"}, {"gamma", 0.5}, {"stabilizer", 0.0}}, *model, batch, kTarget0);
  expect_near(g.attributions, {-0.1, 3.1}, 1e-12);
}

TEST(RuleMethods, LrpEpsilonConservesRelevanceWithZeroBiases) {
  auto mlp = builtin("tabular_mlp", {{"num_features", 6}, {"num_classes", 3}, {"seed", 11}});
  auto cnn = builtin("image_cnn", {{"input_shape", {1, 16, 16}}, {"num_classes", 2}, {"seed", 11}});
  const at::Tensor xm = at::randn({6, 6}, gen(12)), xc = at::randn({3, 1, 16, 16}, gen(13));
  for (auto& [m, x] : std::vector<std::pair<attrib::ModelAdapter*, at::Tensor>>{{mlp.get(), xm},
                                                                                {cnn.get(), xc}}) {
    const int64_t b = x.size(0);
    const at::Tensor y = at::zeros({b}, at::kLong);
    const attrib::Batch batch = dense_batch(x, ids(b, "c"));
    // Built-in models start with zero biases: relevance is conserved as ε -> 0.
    const attrib::Explanation e = run("lrp", {{"epsilon", 1e-9}}, *m, batch, y);
    const at::Tensor f = attrib::select_targets(logits(*m, x), y).to(at::kDouble);
    EXPECT_LT(max_abs(e.extras.at("conservation_gap")), 1e-6 * std::max(1.0, max_abs(f)))
        << m->info().name;
    EXPECT_LT(max_abs(e.attributions.flatten(1).sum(1) - f), 1e-4) << m->info().name;
    // Nonzero biases absorb relevance, unless left out of z.
    {
      at::NoGradGuard no_grad;
      for (const auto& layer : m->layers()) layer.parameters[1].second.uniform_(-0.5, 0.5, gen(14));
    }
    EXPECT_GT(max_abs(run("lrp", {}, *m, batch, y).extras.at("conservation_gap")), 1e-3);
    EXPECT_LT(max_abs(run("lrp", {{"epsilon", 1e-9}, {"set_bias_to_zero", true}}, *m, batch, y)
                          .extras.at("conservation_gap")),
              1e-5 * std::max(1.0, max_abs(f)));
  }
  const attrib::Explanation composite =
      run("lrp", {{"rule", "epsilon_gamma"}}, *cnn, dense_batch(xc, ids(3, "c")),
          at::zeros({3}, at::kLong));
  EXPECT_EQ(composite.info["layer_rules"],
            json({"conv2d: gamma", "conv2d: gamma", "linear: epsilon", "linear: epsilon"}));
  EXPECT_EQ(composite.attributions.sizes(), xc.sizes());
}

// ---------------------------------------------------------------------------------------------
// Guided backpropagation.

TEST(RuleMethods, GuidedBackpropDropsNegativeGradientsByHand) {
  auto model = mlp_231();
  // x = [1, 2]: z = W1 x + b1 = [1 - 2, 2 + 2 - 1, -1 + 2 + 0.5] = [-1, 3, 1.5], ReLU mask [0, 1,
  // 1]. Gradient: W2 = [1, 2, -1] masked -> [0, 2, -1]; W1^T -> [4 + 1, 2 - 1] = [5, 1]. Guided:
  // max(W2, 0) = [1, 2, 0], masked -> [0, 2, 0]; W1^T -> [4, 2].
  const attrib::Batch batch = dense_batch(t2({1, 2}, 1, 2), {"a"});
  const attrib::Explanation e = run("guided_backprop", {}, *model, batch, kTarget0);
  expect_near(e.attributions, {4, 2}, 1e-12);
  expect_near(run("saliency", {{"abs", false}}, *model, batch, kTarget0).attributions, {5, 1},
              1e-6);
  EXPECT_EQ(e.forward_rows, 2);
  EXPECT_EQ(e.backward_rows, 1);
  EXPECT_EQ(e.info["relu_backward"], "1[z > 0] * max(g_out, 0)");
  // Without any ReLU it is the gradient: the linear model's weights.
  auto lin = linear_net();
  expect_near(run("guided_backprop", {}, *lin, dense_batch(kX, {"a"}), at::tensor({1}, at::kLong))
                  .attributions,
              {0.5, 1, -1}, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Batching.

// Batch invariance and max_rows are checked by the conformance suite (tests/conformance); these are
// the rows each rule method reports under a batch cap.
TEST(RuleMethods, RowCountsUnderMaxRows) {
  auto cnn = builtin("image_cnn", {{"input_shape", {1, 12, 12}}, {"num_classes", 3}, {"seed", 5}});
  const at::Tensor x = at::randn({5, 1, 12, 12}, gen(21));
  const attrib::Batch batch = dense_batch(x, ids(5, "e"));
  const at::Tensor y = at::tensor({0, 1, 2, 0, 1}, at::kLong);
  for (const char* method : {"deeplift", "lrp", "guided_backprop"}) {
    EXPECT_EQ(run(method, {}, *cnn, batch, y, 256).backward_rows, 5) << method;
    EXPECT_EQ(run(method, {}, *cnn, batch, y, 2).backward_rows, 5) << method;
  }
  // DeepLIFT: 2 rows per example plus one probe row per group (groups of max_rows / 2 examples).
  EXPECT_EQ(run("deeplift", {}, *cnn, batch, y, 256).forward_rows, 10 + 1);
  EXPECT_EQ(run("deeplift", {}, *cnn, batch, y, 4).forward_rows, 10 + 3);
  EXPECT_EQ(run("lrp", {}, *cnn, batch, y, 2).forward_rows, 5 + 3);
}

// ---------------------------------------------------------------------------------------------
// Built-in dense models: parameters, training, save and reload.

TEST(RuleMethods, DenseModelParametersAreChecked) {
  EXPECT_EQ(error_of([] {
              builtin("tabular_mlp", {{"num_classes", 2}});
            }),
            "plugin 'tabular_mlp' failed to create: tabular_mlp: parameter 'num_features' (or "
            "'input_shape') is required unless "
            "'checkpoint' is given");
  EXPECT_EQ(error_of([] {
              builtin("logistic_regression",
                      {{"num_features", 5}, {"input_shape", {2, 3}}, {"num_classes", 2}});
            }),
            "plugin 'logistic_regression' failed to create: logistic_regression: num_features = 5 "
            "disagrees with input_shape [2,3] (6 features)");
  EXPECT_THAT(error_of([] {
                builtin("image_cnn", {{"input_shape", {1, 3, 8}}, {"num_classes", 2}});
              }),
              HasSubstr("expected height and width >= 4 (two 2x2 max-poolings), got 3 x 8"));
  EXPECT_THAT(error_of([] {
                builtin("image_cnn", {{"input_shape", {28, 28}}, {"num_classes", 2}});
              }),
              HasSubstr("image_cnn: input_shape: expected [channels, height, width]"));
  EXPECT_THAT(error_of([] {
                builtin("tabular_mlp", {{"num_features", 3}, {"hidden", {4, 0}}});
              }),
              HasSubstr("num_classes"));
  EXPECT_EQ(error_of([] {
              builtin("tabular_mlp", {{"num_features", 3}, {"num_classes", 2}, {"hidden", {4, 0}}});
            }),
            "plugin 'tabular_mlp' failed to create: tabular_mlp: hidden[1]: expected an integer >= "
            "1, got 0");
  auto named =
      builtin("logistic_regression",
              {{"num_features", 2}, {"num_classes", 2}, {"feature_names", {"age", "bmi"}}});
  EXPECT_EQ(named->info().metadata["feature_names"], json({"age", "bmi"}));
  EXPECT_EQ(error_of([] {
              builtin("tabular_mlp",
                      {{"num_features", 3}, {"num_classes", 2}, {"feature_names", {"age", "bmi"}}});
            }),
            "plugin 'tabular_mlp' failed to create: tabular_mlp: feature_names has 2 entries, "
            "expected num_features = 3");
  // Multi-dimensional tabular input is flattened first; determinism from the seed.
  auto a = builtin("tabular_mlp", {{"input_shape", {2, 3}}, {"num_classes", 2}, {"hidden", {5}}});
  auto b = builtin("tabular_mlp", {{"input_shape", {2, 3}}, {"num_classes", 2}, {"hidden", {5}}});
  auto c = builtin("tabular_mlp",
                   {{"input_shape", {2, 3}}, {"num_classes", 2}, {"hidden", {5}}, {"seed", 1}});
  const at::Tensor x = at::randn({4, 2, 3}, gen(30));
  EXPECT_EQ(attrib::SequentialNetwork(*a, x).summary(), "flatten linear(6->5) relu linear(5->2)");
  EXPECT_TRUE(logits(*a, x).equal(logits(*b, x)));
  EXPECT_FALSE(logits(*a, x).equal(logits(*c, x)));
  EXPECT_EQ(a->info().input_shape, (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(a->info().capability_notes.empty()) << a->info().capability_notes.dump();
  // A checkpoint saved by another model is refused.
  const std::string path = tmp_path("mlp_for_cnn.pt");
  a->save(path);
  EXPECT_EQ(error_of([&] {
              builtin("image_cnn", {{"checkpoint", path}});
            }),
            "plugin 'image_cnn' failed to create: image_cnn: checkpoint '" + path +
                "': expected a model saved by image_cnn, got one saved by tabular_mlp");
}

TEST(RuleMethods, LogisticRegressionTrainsAndReloads) {
  // Three Gaussian blobs in 4-d, means 3 e_c, noise 0.5.
  auto blobs = [](int64_t n, uint64_t seed) {
    at::Generator g = gen(seed);
    const at::Tensor y = at::randint(0, 3, {n}, g, at::kLong);
    const at::Tensor x = at::randn({n, 4}, g) * 0.5 + 3.0 * at::one_hot(y, 4).to(at::kFloat);
    return std::make_pair(x, y);
  };
  auto [xt, yt] = blobs(300, 1);
  auto [xv, yv] = blobs(150, 2);
  auto m = builtin("logistic_regression", {{"num_features", 4}, {"num_classes", 3}});
  const attrib::TrainReport r =
      m->train(labelled(xt, yt, "t"), labelled(xv, yv, "v"), options(30, 0.05));
  EXPECT_GT(r.val_accuracy, 0.95) << r.history.dump();
  std::cout << "[ " << m->info().name << " ] val accuracy " << r.val_accuracy << " after "
            << r.epochs_run << " epochs\n";
  expect_reloads(*m, xv, "logistic_regression.pt");
  // Through the plugin's own checkpoint parameter too.
  auto again = builtin("logistic_regression", {{"checkpoint", tmp_path("logistic_regression.pt")}});
  EXPECT_TRUE(logits(*again, xv).equal(logits(*m, xv)));
  EXPECT_FALSE(again->info().artifact_hash.empty());
}

TEST(RuleMethods, TabularMlpTrainsOnXorAndReloads) {
  // Label 1 iff x0 * x1 > 0, points within 0.1 of an axis dropped (a margin).
  auto xor_set = [](int64_t n, uint64_t seed) {
    at::Tensor x = at::rand({3 * n, 2}, gen(seed)) * 2 - 1;
    x = x.index_select(0, at::nonzero(x.abs().amin(1) > 0.1).view(-1)).slice(0, 0, n);
    const at::Tensor y = (x.select(1, 0) * x.select(1, 1) > 0).to(at::kLong);
    return std::make_pair(x.contiguous(), y);
  };
  auto [xt, yt] = xor_set(800, 3);
  auto [xv, yv] = xor_set(200, 4);
  auto m = builtin("tabular_mlp", {{"num_features", 2}, {"num_classes", 2}, {"hidden", {32, 32}}});
  const attrib::TrainReport r =
      m->train(labelled(xt, yt, "t"), labelled(xv, yv, "v"), options(60, 0.01));
  EXPECT_GT(r.val_accuracy, 0.95) << r.history.dump();
  std::cout << "[ " << m->info().name << " ] val accuracy " << r.val_accuracy << " after "
            << r.epochs_run << " epochs\n";
  expect_reloads(*m, xv, "tabular_mlp.pt");
  // The trained network is still exactly its architecture.
  attrib::SequentialNetwork net(*m, xv);
  EXPECT_LT(net.verified_max_diff(), 1e-5);
}

TEST(RuleMethods, ImageCnnTrainsOnBrightSideAndReloads) {
  // 1 x 12 x 12 images, N(0, 0.5) noise; class 0 has +1 on the left half, class 1 on the right.
  auto images = [](int64_t n, uint64_t seed) {
    at::Generator g = gen(seed);
    const at::Tensor y = at::randint(0, 2, {n}, g, at::kLong);
    at::Tensor x = at::randn({n, 1, 12, 12}, g) * 0.5;
    const at::Tensor left = y.eq(0).to(at::kFloat).view({n, 1, 1, 1});
    x.narrow(3, 0, 6).add_(left);
    x.narrow(3, 6, 6).add_(1 - left);
    return std::make_pair(x, y);
  };
  auto [xt, yt] = images(240, 5);
  auto [xv, yv] = images(100, 6);
  auto m = builtin("image_cnn", {{"input_shape", {1, 12, 12}}, {"num_classes", 2}});
  const attrib::TrainReport r =
      m->train(labelled(xt, yt, "t"), labelled(xv, yv, "v"), options(15, 0.005));
  EXPECT_GT(r.val_accuracy, 0.95) << r.history.dump();
  std::cout << "[ " << m->info().name << " ] val accuracy " << r.val_accuracy << " after "
            << r.epochs_run << " epochs\n";
  expect_reloads(*m, xv, "image_cnn.pt");
  // After training the rule methods still meet their identities on the trained weights.
  const attrib::Batch batch = dense_batch(xv.slice(0, 0, 8), ids(8, "v"));
  const at::Tensor y = yv.slice(0, 0, 8);
  EXPECT_LT(max_abs(run("deeplift", {}, *m, batch, y).extras.at("convergence_delta")), 1e-9);
  // Bright half of class-0 images: DeepLIFT puts more mass on the left than on the right.
  const attrib::Explanation d = run("deeplift", {}, *m, batch, y);
  for (int64_t i = 0; i < 8; ++i) {
    const at::Tensor a = d.attributions[i];
    const double left = a.narrow(2, 0, 6).sum().item<double>();
    const double right = a.narrow(2, 6, 6).sum().item<double>();
    if (y[i].item<int64_t>() == 0) {
      EXPECT_GT(left, right) << "example " << i;
    } else {
      EXPECT_GT(right, left) << "example " << i;
    }
  }
}
