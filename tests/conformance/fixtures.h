#pragma once
// The models and batches every method plugin is tried on, and a model wrapper that records the
// batches a method sends through the model. Built-in model plugins (image_cnn, text_transformer)
// are used where the registry has them; the analytic models of tests/unit/test_models.h always.
#include <ATen/ATen.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "attrib/model.h"
#include "registry.h"

namespace conformance {

/// Rows that went through the model: forward passes (every entry point that runs the network)
/// and backward passes (seen by a hook on the logits), with the largest single batch of each.
struct Rows {
  int64_t forward = 0, largest_forward = 0;
  int64_t backward = 0, largest_backward = 0;
};

/// Delegates to a shared model and counts the rows of each pass. embed() is a table lookup, not a
/// pass, and is not counted (InputSpace embeds the whole batch at once by design).
class RecordingModel : public attrib::ModelAdapter {
 public:
  explicit RecordingModel(std::shared_ptr<attrib::ModelAdapter> inner)
      : inner_(std::move(inner)), rows_(std::make_shared<Rows>()) {}

  const attrib::ModelInfo& info() const override { return inner_->info(); }
  at::Tensor forward(const at::Tensor& inputs, const at::Tensor& mask) override {
    return record(inner_->forward(inputs, mask));
  }
  at::Tensor embed(const at::Tensor& ids) override { return inner_->embed(ids); }
  at::Tensor forward_from_embeddings(const at::Tensor& e, const at::Tensor& mask) override {
    return record(inner_->forward_from_embeddings(e, mask));
  }
  attrib::AttentionOutput forward_with_attentions(const at::Tensor& ids,
                                                  const at::Tensor& mask) override {
    attrib::AttentionOutput out = inner_->forward_with_attentions(ids, mask);
    out.logits = record(out.logits);
    return out;
  }
  attrib::AttentionOutput forward_from_embeddings_with_attentions(const at::Tensor& e,
                                                                  const at::Tensor& mask) override {
    attrib::AttentionOutput out = inner_->forward_from_embeddings_with_attentions(e, mask);
    out.logits = record(out.logits);
    return out;
  }
  attrib::LabelAttentionOutput label_attention(const at::Tensor& ids,
                                               const at::Tensor& mask) override {
    attrib::LabelAttentionOutput out = inner_->label_attention(ids, mask);
    out.logits = record(out.logits);
    return out;
  }
  std::vector<attrib::ParamLayer> layers() override { return inner_->layers(); }
  std::unique_ptr<attrib::ModelAdapter> clone() const override { return inner_->clone(); }
  void to(const at::Device& device) override { inner_->to(device); }
  at::Device device() const override { return inner_->device(); }

  const Rows& rows() const { return *rows_; }

 private:
  at::Tensor record(const at::Tensor& logits) {
    const int64_t n = logits.size(0);
    rows_->forward += n;
    rows_->largest_forward = std::max(rows_->largest_forward, n);
    if (logits.requires_grad()) {
      // The hook may run after this wrapper is gone (a method keeping a graph): share the counts.
      std::shared_ptr<Rows> rows = rows_;
      logits.register_hook([rows](const at::Tensor& grad) {
        rows->backward += grad.size(0);
        rows->largest_backward = std::max(rows->largest_backward, grad.size(0));
      });
    }
    return logits;
  }

  std::shared_ptr<attrib::ModelAdapter> inner_;
  std::shared_ptr<Rows> rows_;
};

/// A model with a batch to explain. The model is shared: models are stateless in evaluation, and
/// each explanation wraps it in a fresh RecordingModel.
struct Fixture {
  std::string name;
  std::shared_ptr<attrib::ModelAdapter> model;
  attrib::Batch batch;
  at::Tensor targets;  ///< one class per example
};

/// The fixtures, dense ones first: the analytic dense model (forward, input gradient), image_cnn
/// (adds layers and a sequential architecture), the analytic text model (embeddings) and
/// text_transformer with label attention (attentions, label attention). A built-in model the
/// registry lacks is left out with a line in `notes`.
std::vector<Fixture> make_fixtures(const attrib::Registry& registry,
                                   std::vector<std::string>* notes);

/// Parameters for plugins whose schema has a required parameter without a default, keyed by
/// plugin name: the suite writes what they need (e.g. precomputed's JSONL file of scores for every
/// fixture example) into `scratch_dir`.
nlohmann::json required_params(const std::string& plugin, const std::vector<Fixture>& fixtures,
                               const std::string& scratch_dir);

}  // namespace conformance
