#pragma once
// The model side of the plugin interface.
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "attrib/abi.h"
#include "attrib/batch.h"
#include "attrib/export.h"

namespace attrib {

/// Static facts about one model instance.
struct ModelInfo {
  std::string name;                      ///< model identifier (plugin name or file)
  Modality modality = Modality::kDense;  ///< input kind
  int64_t num_classes = 0;               ///< number of logits
  std::vector<std::string> class_names;  ///< may be empty
  uint64_t capabilities = 0;             ///< attrib_capability bits this instance really has
  std::vector<int64_t> input_shape;      ///< dense: per-example shape; text: empty
  int64_t pad_id = -1, unk_id = -1, mask_id = -1;  ///< text special-token ids, -1 if none
  std::vector<std::string> vocab;   ///< text: id -> token, when the model carries one
  std::string artifact_hash;        ///< hash of the weights file, when loaded from one
  nlohmann::json metadata;          ///< everything else the model declares
  nlohmann::json capability_notes;  ///< why a capability was withdrawn (conformance checks)
};

/// Logits together with per-layer attention probabilities [B, H, T, T].
struct AttentionOutput {
  at::Tensor logits;
  std::vector<at::Tensor> attentions;
};

/// Logits together with label attention [B, H, C, T].
struct LabelAttentionOutput {
  at::Tensor logits;
  at::Tensor attention;
};

/// One parameterised layer, in forward order (input to output). The tensors alias the model's
/// parameters so that re-initialising them in place changes the model.
struct ParamLayer {
  std::string name;
  std::vector<std::pair<std::string, at::Tensor>> parameters;
};

/// Options and outcome of ModelAdapter::train.
struct TrainOptions {
  int64_t epochs = 10;          ///< maximum epochs
  int64_t batch_size = 64;      ///< examples per optimiser step
  double learning_rate = 1e-3;  ///< Adam learning rate
  double weight_decay = 0.0;    ///< Adam weight decay
  int64_t patience = 3;         ///< early stopping: epochs without validation improvement
  uint64_t seed = 0;            ///< initialisation and shuffling seed
  /// Called after every epoch with (epoch, epochs, train loss, validation accuracy); may be empty.
  std::function<void(int64_t, int64_t, double, double)> on_epoch;
};
struct TrainReport {
  int64_t epochs_run = 0;
  double val_accuracy = 0.0;
  double val_macro_f1 = 0.0;
  nlohmann::json history;  ///< per-epoch loss and accuracy
};

/// A classifier the harness can explain and evaluate.
///
/// Every method that a capability does not cover throws attrib::Error naming the capability.
/// Implementations must be batch-independent (evaluation mode, no cross-example operations) and
/// deterministic. Logits are raw; probabilities are computed by the harness.
class ATTRIB_SDK_API ModelAdapter {
 public:
  virtual ~ModelAdapter();

  /// Facts about this instance.
  virtual const ModelInfo& info() const = 0;

  /// Raw logits [B, C]. `inputs`: dense float [B, ...] (may require grad) or text ids [B, T];
  /// `attention_mask`: text [B, T], undefined for dense models.
  virtual at::Tensor forward(const at::Tensor& inputs, const at::Tensor& attention_mask) = 0;

  /// Text: token ids [B, T] -> embeddings [B, T, d], exactly the tensor that is attributed.
  virtual at::Tensor embed(const at::Tensor& input_ids);
  /// Text: embeddings [B, T, d] + mask [B, T] -> logits [B, C].
  virtual at::Tensor forward_from_embeddings(const at::Tensor& embeddings,
                                             const at::Tensor& attention_mask);
  /// Text: logits and the attention probabilities actually multiplied with V, one per layer.
  virtual AttentionOutput forward_with_attentions(const at::Tensor& input_ids,
                                                  const at::Tensor& attention_mask);
  /// Same from embeddings, so that gradients w.r.t. embeddings and attentions share one graph.
  virtual AttentionOutput forward_from_embeddings_with_attentions(const at::Tensor& embeddings,
                                                                  const at::Tensor& attention_mask);
  /// Text: logits and label attention [B, H, C, T].
  virtual LabelAttentionOutput label_attention(const at::Tensor& input_ids,
                                               const at::Tensor& attention_mask);

  /// Ordered parameterised layers (input to output), for randomisation tests.
  virtual std::vector<ParamLayer> layers();
  /// A deep copy with its own parameters (randomisation tests modify the copy).
  virtual std::unique_ptr<ModelAdapter> clone() const;

  /// Trains in place on `train`, early-stopping on `val` (both collated batches).
  virtual TrainReport train(const Batch& train, const Batch& val, const TrainOptions& options);
  /// Saves the model (a TorchScript archive for built-in models) to `path`.
  virtual void save(const std::string& path) const;

  /// Moves parameters to `device`.
  virtual void to(const at::Device& device) = 0;
  virtual at::Device device() const = 0;

  /// True when every bit of `caps` is offered.
  bool has(uint64_t caps) const { return (info().capabilities & caps) == caps; }
};

/// Human-readable names of capability bits, e.g. {"forward", "input_gradient"}.
ATTRIB_SDK_API std::vector<std::string> capability_names(uint64_t caps);
/// Parses one capability name; throws attrib::Error for an unknown one.
ATTRIB_SDK_API uint64_t capability_from_name(const std::string& name);

}  // namespace attrib
