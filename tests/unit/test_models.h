#pragma once
// Analytic test models and batches without the plugin registry: real ModelAdapters with
// closed-form outputs whose attributions can be worked out by hand. Shared by the unit tests
// (through analytic_models.h) and the plugin conformance suite (tests/conformance), which is
// installed and so cannot name the build tree's plugin folder.
#include <ATen/ATen.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "attrib/batch.h"
#include "attrib/input_space.h"
#include "attrib/model.h"

namespace attrib_test {

// ---------------------------------------------------------------------------------------------
// Test models: real ModelAdapters with closed-form outputs. Each counts the rows it forwards.

struct RowCount {
  int64_t rows = 0, largest = 0;
  void add(int64_t n) {
    rows += n;
    largest = std::max(largest, n);
  }
};

// A dense model given by a function of x [N, D] -> logits [N, C].
class DenseModel : public attrib::ModelAdapter {
 public:
  using Fn = std::function<at::Tensor(const at::Tensor&)>;
  DenseModel(std::string name, int64_t dim, int64_t classes, Fn fn) : fn_(std::move(fn)) {
    info_.name = std::move(name);
    info_.num_classes = classes;
    info_.input_shape = {dim};
    info_.capabilities = ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT;
  }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& x, const at::Tensor&) override {
    count.add(x.size(0));
    return fn_(x);
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }

  RowCount count;

 private:
  attrib::ModelInfo info_;
  Fn fn_;
};

// f = W x + b with W = [[1, -2, 3], [0.5, 1, -1]], b = [0.25, -0.5].
inline DenseModel linear_model() {
  const at::Tensor w = at::tensor({1.0f, -2.0f, 3.0f, 0.5f, 1.0f, -1.0f}).view({2, 3});
  const at::Tensor b = at::tensor({0.25f, -0.5f});
  return DenseModel("linear", 3, 2, [=](const at::Tensor& x) { return x.matmul(w.t()) + b; });
}

// f_0 = x0^2 x1 + sin(x2), f_1 = tanh(x0 + x1 x2): smooth, so IG converges.
inline at::Tensor smooth_fn(const at::Tensor& x) {
  const at::Tensor x0 = x.select(1, 0), x1 = x.select(1, 1), x2 = x.select(1, 2);
  return at::stack({x0 * x0 * x1 + x2.sin(), (x0 + x1 * x2).tanh()}, 1);
}
inline DenseModel smooth_model() { return DenseModel("smooth", 3, 2, smooth_fn); }

// f = x0 * x1 (one class): Shapley values with baseline 0 are [x0 x1 / 2, x0 x1 / 2].
inline DenseModel product_model() {
  return DenseModel("product", 2, 1, [](const at::Tensor& x) {
    return (x.select(1, 0) * x.select(1, 1)).unsqueeze(1);
  });
}

// f = sum_j w_j x_j with w_j = j - 3.5 over `dim` features (one class).
inline DenseModel wide_linear_model(int64_t dim) {
  const at::Tensor w = at::arange(dim, at::kFloat) - 3.5;
  return DenseModel("wide_linear", dim, 1,
                    [=](const at::Tensor& x) { return x.matmul(w).unsqueeze(1); });
}

// Embedding table [10, 4], masked mean pooling, tanh, linear head [2, 4]. Ids: 0 PAD, 1 UNK,
// 2 MASK, 3 CLS, 4 SEP, 5.. words.
class TextModel : public attrib::ModelAdapter {
 public:
  explicit TextModel(uint64_t caps = ATTRIB_CAP_FORWARD | ATTRIB_CAP_INPUT_GRADIENT |
                                     ATTRIB_CAP_EMBEDDINGS,
                     int64_t mask_id = 2) {
    info_.name = "tiny_text";
    info_.modality = attrib::Modality::kText;
    info_.num_classes = 2;
    info_.capabilities = caps;
    info_.pad_id = 0;
    info_.unk_id = 1;
    info_.mask_id = mask_id;
    table_ = (at::arange(40, at::kFloat).view({10, 4}) * 0.7).sin();
    head_ = at::tensor({0.8f, -1.1f, 0.4f, 1.3f, -0.6f, 0.9f, 1.2f, -0.3f}).view({2, 4});
  }
  const attrib::ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask) override {
    return forward_from_embeddings(embed(ids), mask);
  }
  at::Tensor embed(const at::Tensor& ids) override { return at::embedding(table_, ids); }
  at::Tensor forward_from_embeddings(const at::Tensor& e, const at::Tensor& mask) override {
    count.add(e.size(0));
    const at::Tensor m = mask.to(at::kFloat).unsqueeze(2);
    return ((e * m).sum(1) / m.sum(1)).tanh().matmul(head_.t()) + at::tensor({0.1f, -0.2f});
  }
  void to(const at::Device&) override {}
  at::Device device() const override { return at::kCPU; }

  RowCount count;

 private:
  attrib::ModelInfo info_;
  at::Tensor table_, head_;
};

// ---------------------------------------------------------------------------------------------
// Batches.

inline attrib::Batch dense_batch(const at::Tensor& x, std::vector<std::string> ids) {
  attrib::Batch b;
  b.ids = std::move(ids);
  b.inputs = x;
  b.labels = at::full({x.size(0)}, -1, at::kLong);
  return b;
}

// "a": [CLS w5 w6 w7 SEP PAD], "b": [CLS w8 w9 SEP PAD PAD].
inline attrib::Batch text_batch() {
  attrib::Batch b;
  b.modality = attrib::Modality::kText;
  b.ids = {"a", "b"};
  b.inputs = at::tensor({3, 5, 6, 7, 4, 0, 3, 8, 9, 4, 0, 0}, at::kLong).view({2, 6});
  b.attention_mask = at::tensor({1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0}, at::kLong).view({2, 6});
  b.word_ids = at::tensor({-1, 0, 1, 2, -1, -1, -1, 0, 1, -1, -1, -1}, at::kLong).view({2, 6});
  b.labels = at::tensor({1, 0}, at::kLong);
  return b;
}

// Example "b" alone, without the extra padding: T = 4.
inline attrib::Batch text_b_alone() {
  attrib::Batch b = attrib::slice_batch(text_batch(), 1, 2);
  b.inputs = b.inputs.slice(1, 0, 4);
  b.attention_mask = b.attention_mask.slice(1, 0, 4);
  b.word_ids = b.word_ids.slice(1, 0, 4);
  return b;
}

}  // namespace attrib_test
