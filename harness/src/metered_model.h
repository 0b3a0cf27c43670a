#pragma once
// A model seen through a meter: every forward-family call is passed on unchanged and counted
// (calls, rows, seconds), so that the host can say how much of a stage's time the model itself
// took.
#include <memory>
#include <vector>

#include "attrib/model.h"

namespace attrib {

/// Forward calls, rows and wall seconds counted by a MeteredModel.
struct ModelMeter {
  int64_t calls = 0, rows = 0;
  double seconds = 0;
  ModelMeter operator-(const ModelMeter& o) const {
    return {calls - o.calls, rows - o.rows, seconds - o.seconds};
  }
};

/// Passes every call to `inner` (which must outlive it). forward, forward_from_embeddings,
/// forward_with_attentions, forward_from_embeddings_with_attentions and label_attention are
/// metered: one call, its batch rows, the wall time until it returns (on CUDA, until the kernels
/// are queued, not finished). Backward passes run outside the model and are not counted.
class MeteredModel final : public ModelAdapter {
 public:
  explicit MeteredModel(ModelAdapter& inner) : inner_(inner) {}
  const ModelMeter& meter() const { return meter_; }

  const ModelInfo& info() const override { return inner_.info(); }
  at::Tensor forward(const at::Tensor& inputs, const at::Tensor& attention_mask) override;
  at::Tensor embed(const at::Tensor& input_ids) override { return inner_.embed(input_ids); }
  at::Tensor forward_from_embeddings(const at::Tensor& embeddings,
                                     const at::Tensor& attention_mask) override;
  AttentionOutput forward_with_attentions(const at::Tensor& input_ids,
                                          const at::Tensor& attention_mask) override;
  AttentionOutput forward_from_embeddings_with_attentions(
      const at::Tensor& embeddings, const at::Tensor& attention_mask) override;
  LabelAttentionOutput label_attention(const at::Tensor& input_ids,
                                       const at::Tensor& attention_mask) override;
  std::vector<ParamLayer> layers() override { return inner_.layers(); }
  std::unique_ptr<ModelAdapter> clone() const override { return inner_.clone(); }
  TrainReport train(const Batch& train, const Batch& val, const TrainOptions& options) override {
    return inner_.train(train, val, options);
  }
  void save(const std::string& path) const override { inner_.save(path); }
  void to(const at::Device& device) override { inner_.to(device); }
  at::Device device() const override { return inner_.device(); }

 private:
  template <typename F>
  auto metered(const at::Tensor& batch, F&& call) -> decltype(call());

  ModelAdapter& inner_;
  ModelMeter meter_;
};

}  // namespace attrib
