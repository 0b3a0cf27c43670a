// TEMPORARY (plugin refactor): dumps exact bits of attributions to $ATTRIB_BITIDENT_OUT. Deleted
// after the before/after comparison.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "analytic_models.h"

namespace {

using namespace attrib_test;

void dump(std::ofstream& out, const std::string& key, const at::Tensor& t) {
  const at::Tensor d = t.detach().cpu().to(at::kDouble).contiguous();
  out << key << " " << t.scalar_type() << " " << t.sizes() << "\n";
  const double* p = d.data_ptr<double>();
  for (int64_t k = 0; k < d.numel(); ++k) {
    uint64_t bits;
    std::memcpy(&bits, p + k, 8);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016llx ", static_cast<unsigned long long>(bits));
    out << buf;
  }
  out << "\n";
}

TEST(RefactorBitIdentity, Dump) {
  const char* path = std::getenv("ATTRIB_BITIDENT_OUT");
  if (!path) GTEST_SKIP() << "ATTRIB_BITIDENT_OUT not set";
  std::ofstream out(path);
  const at::Tensor x =
      at::tensor({0.7f, -1.2f, 0.9f, 1.5f, 0.4f, -0.8f, -0.3f, 2.0f, 1.1f}).view({3, 3});
  const at::Tensor targets = at::tensor({0, 1, 1}, at::kLong);
  const std::vector<std::string> ids = {"p", "q", "r"};
  const std::vector<std::pair<std::string, json>> dense = {
      {"saliency", json::object()},
      {"saliency", {{"abs", false}}},
      {"input_x_gradient", json::object()},
      {"integrated_gradients", {{"n_steps", 7}}},
      {"integrated_gradients",
       {{"n_steps", 5}, {"method", "riemann_trapezoid"}, {"multiply_by_inputs", false}}},
      {"smoothgrad", {{"n_samples", 5}}},
      {"smoothgrad", {{"n_samples", 4}, {"mode", "vargrad"}, {"noise_scale", "relative"}}},
      {"smoothgrad",
       {{"n_samples", 3}, {"mode", "smoothgrad_sq"}, {"base", "input_x_gradient"}, {"abs", true}}},
      {"gradient_shap", {{"n_samples", 5}, {"stdevs", 0.1}, {"baseline", "gaussian"}}},
      {"gradient_shap", {{"n_samples", 6}, {"baseline", "uniform"}}},
      {"gradient_shap", json::object()},
      {"feature_ablation", json::object()},
      {"feature_ablation", {{"groups", {0, 1, 0}}}},
      {"occlusion", json::object()},
      {"occlusion", {{"window", 2}, {"stride", 1}}},
      {"shapley_sampling", {{"n_permutations", 4}}},
      {"shapley_sampling", {{"n_permutations", 5}, {"antithetic", true}}},
      {"kernel_shap", {{"n_samples", 4}}},
      {"kernel_shap", json::object()},
      {"lime", {{"n_samples", 20}}},
      {"lime", {{"n_samples", 9}, {"alpha", 0.0}}}};
  const std::vector<std::pair<std::string, json>> text = {
      {"saliency", json::object()},
      {"input_x_gradient", json::object()},
      {"integrated_gradients", {{"n_steps", 6}, {"baseline", "pad"}}},
      {"smoothgrad", {{"n_samples", 4}}},
      {"smoothgrad", {{"n_samples", 3}, {"noise_scale", "relative"}, {"mode", "vargrad"}}},
      {"gradient_shap", {{"n_samples", 4}, {"stdevs", 0.2}}},
      {"gradient_shap", {{"n_samples", 3}, {"stdevs", 0.1}, {"baseline", "pad"}}},
      {"feature_ablation", json::object()},
      {"occlusion", {{"window", 2}}},
      {"shapley_sampling", {{"n_permutations", 6}}},
      {"kernel_shap", json::object()},
      {"kernel_shap", {{"n_samples", 3}}},
      {"lime", {{"n_samples", 30}}}};
  auto record = [&](const std::string& tag, const attrib::Explanation& e) {
    out << "== " << tag << " rows " << e.forward_rows << " " << e.backward_rows << " info "
        << e.info.dump() << "\n";
    dump(out, "attributions", e.attributions);
    for (const auto& [key, value] : e.extras) dump(out, key, value);
  };
  for (const auto& [name, params] : dense) {
    for (int64_t cap : {256, 2, 5}) {
      DenseModel smooth = smooth_model();
      record(name + params.dump() + " smooth cap " + std::to_string(cap),
             run(name, params, smooth, dense_batch(x, ids), targets, cap));
      DenseModel linear = linear_model();
      record(name + params.dump() + " linear cap " + std::to_string(cap),
             run(name, params, linear, dense_batch(kX, {"e"}), kTarget0, cap));
    }
  }
  for (const auto& [name, params] : text) {
    for (int64_t cap : {256, 3}) {
      TextModel model;
      record(name + params.dump() + " text cap " + std::to_string(cap),
             run(name, params, model, text_batch(), at::tensor({1, 0}, at::kLong), cap));
    }
  }
}

}  // namespace
