#pragma once
// ModelAdapter over a TorchScript module that follows the capability contract (README, "Model
// contract"; METHODS.md §7). Used by the `torchscript` plugin and by built-in models, which are
// TorchScript modules defined from C++.
#include <torch/script.h>

#include <memory>
#include <string>

#include "attrib/export.h"
#include "attrib/model.h"

namespace attrib {

class ATTRIB_SDK_API TorchScriptModel : public ModelAdapter {
 public:
  /// Wraps `module`: puts it in eval mode, freezes parameters, discovers the exported methods,
  /// reads metadata() when present and runs the conformance checks; a failed check withdraws the
  /// capability and records why in info().capability_notes. `name` identifies the model in results.
  TorchScriptModel(torch::jit::Module module, std::string name, std::string artifact_hash = "");

  /// Loads a TorchScript archive; throws attrib::Error naming the path on failure.
  static std::unique_ptr<TorchScriptModel> load(const std::string& path);

  const ModelInfo& info() const override { return info_; }
  at::Tensor forward(const at::Tensor& inputs, const at::Tensor& attention_mask) override;
  at::Tensor embed(const at::Tensor& input_ids) override;
  at::Tensor forward_from_embeddings(const at::Tensor& embeddings,
                                     const at::Tensor& attention_mask) override;
  AttentionOutput forward_with_attentions(const at::Tensor& input_ids,
                                          const at::Tensor& attention_mask) override;
  AttentionOutput forward_from_embeddings_with_attentions(
      const at::Tensor& embeddings, const at::Tensor& attention_mask) override;
  LabelAttentionOutput label_attention(const at::Tensor& input_ids,
                                       const at::Tensor& attention_mask) override;
  std::vector<ParamLayer> layers() override;
  std::unique_ptr<ModelAdapter> clone() const override;
  TrainReport train(const Batch& train, const Batch& val, const TrainOptions& options) override;
  void save(const std::string& path) const override;
  void to(const at::Device& device) override;
  at::Device device() const override { return device_; }

  torch::jit::Module& module() { return module_; }

 private:
  void discover();
  void conformance_checks();
  at::Tensor call(const char* method, std::vector<c10::IValue> args);
  ModelInfo info_;
  torch::jit::Module module_;
  at::Device device_ = at::kCPU;
};

/// SHA-256-free content hash (FNV-1a 64, hex) of a file, for recording model artifacts.
ATTRIB_SDK_API std::string file_hash(const std::string& path);

}  // namespace attrib
