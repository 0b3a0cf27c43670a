#pragma once
// Shared by the metric tests (correlation, infidelity, prediction gap, perturb, localisation,
// metric catalogue): small models with hand-computable outputs, batches and a run() that resolves
// a metric's parameters and scores one batch.
#include <ATen/ATen.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "analytic_models.h"
#include "attrib/params.h"
#include "metric.h"

namespace metric_fixtures {

using attrib_test::error_of;
using nlohmann::json;

// A float tensor from float or integer literals.
inline at::Tensor floats(std::vector<float> v) { return at::tensor(v); }

// Dense: logits = [w . x, 0]. Replacing feature i by 0 lowers the class-0 logit by w_i x_i.
class Linear : public attrib::ModelAdapter {
 public:
  explicit Linear(std::vector<float> w) : w_(at::tensor(w)) {
    info_.name = "linear";
    info_.num_classes = 2;
    info_.capabilities = ATTRIB_CAP_FORWARD;
  }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& x, const at::Tensor&) override {
    count.add(x.size(0));
    at::Tensor z = (x.to(at::kFloat).reshape({x.size(0), -1}) * w_).sum(1, true);
    return at::cat({z, at::zeros_like(z)}, 1);
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }
  attrib_test::RowCount count;

 private:
  attrib::ModelInfo info_;
  at::Tensor w_;
};

// Text: logits = [sum over attended tokens of w[id], 0]. Ids: 0 PAD, 1 UNK, 2 MASK, 3 CLS
// (weight 100, never a feature), 4 SEP, 5..10 words with weights 1..6.
class Bag : public attrib::ModelAdapter {
 public:
  Bag() : w_(floats({0.0f, 0.0f, 0.0f, 100.0f, 0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f})) {
    info_.name = "bag";
    info_.modality = attrib::Modality::kText;
    info_.num_classes = 2;
    info_.capabilities = ATTRIB_CAP_FORWARD;
    info_.pad_id = 0;
    info_.unk_id = 1;
    info_.mask_id = 2;
  }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& x, const at::Tensor& mask) override {
    count.add(x.size(0));
    at::Tensor v = w_.index_select(0, x.reshape({-1})).view(x.sizes());
    at::Tensor z = (v * mask.to(at::kFloat)).sum(1, true);
    return at::cat({z, at::zeros_like(z)}, 1);
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }
  attrib_test::RowCount count;

 private:
  attrib::ModelInfo info_;
  at::Tensor w_;
};

inline attrib::Batch dense(const at::Tensor& x, const std::string& prefix = "ex") {
  attrib::Batch b;
  b.inputs = x;
  for (int64_t i = 0; i < x.size(0); ++i) b.ids.push_back(prefix + std::to_string(i));
  b.labels = at::zeros({x.size(0)}, at::kLong);
  return b;
}

// "t0": [CLS w1 w2 w3 w4 SEP PAD] (f = 110), "t1": [CLS w5 w6 SEP PAD PAD PAD] (f = 111).
inline attrib::Batch text() {
  attrib::Batch b;
  b.modality = attrib::Modality::kText;
  b.ids = {"t0", "t1"};
  b.inputs = at::tensor({3, 5, 6, 7, 8, 4, 0, 3, 9, 10, 4, 0, 0, 0}, at::kLong).view({2, 7});
  b.attention_mask = at::tensor({1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0}, at::kLong).view({2, 7});
  b.word_ids =
      at::tensor({-1, 0, 1, 2, 3, -1, -1, -1, 0, 1, -1, -1, -1, -1}, at::kLong).view({2, 7});
  b.labels = at::zeros({2}, at::kLong);
  return b;
}
// The word weights of text() at their positions (0 elsewhere): a = w[id] on features.
inline const at::Tensor kTextWeights =
    floats({0.0f, 1, 2, 3, 4, 0, 0, 0, 5, 6, 0, 0, 0, 0}).view({2, 7});

struct Result {
  std::vector<double> scores;
  json info;
};

inline Result run(const std::string& name, json params, attrib::ModelAdapter& model,
                  const attrib::Batch& b, const at::Tensor& scores,
                  const attrib::Annotations* ann = nullptr, int64_t max_rows = 256,
                  uint64_t seed = 0) {
  const auto& spec = attrib::find_metric(name);
  params = attrib::resolve_params(spec.params, params, "params");
  auto metric = spec.create(params);
  at::Tensor targets = at::zeros({b.size()}, at::kLong);
  attrib::MetricInput in{model, b, scores, targets, ann, seed, max_rows};
  Result r;
  r.scores = metric->score(in);
  r.info = metric->info();
  return r;
}

inline double one(const std::string& name, json params, attrib::ModelAdapter& model,
                  const at::Tensor& x, const at::Tensor& a) {
  return run(name, std::move(params), model, dense(x), a).scores[0];
}

inline const double kPi = std::acos(-1.0);

inline const json kLogit = {{"output", "logit"}, {"target", "explained"}, {"substrate", "zero"}};

}  // namespace metric_fixtures
