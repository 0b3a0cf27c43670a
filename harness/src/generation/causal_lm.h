#pragma once
// Generative language models. A causal LM (a TorchScript module with metadata input_kind
// "causal_lm": forward(input_ids [B, T], attention_mask [B, T]) -> next-token logits [B, T, V])
// is explained through CausalLmTarget, a ModelAdapter whose "logits" are the log-probabilities of
// a target continuation given the (perturbed) prompt: column 0 the sequence total, column j the
// j-th target token's. Every method then attributes a continuation to the prompt's words
// unchanged: class 0 gives the sequence-level scores, classes 1..m the feature x target-token
// matrix (Captum's LLMAttribution seq_attr and token_attr).
#include <torch/script.h>

#include <memory>
#include <string>
#include <vector>

#include "attrib/model.h"

namespace attrib {

class CausalLmTarget;

/// The causal LM at `path`, or null when the TorchScript archive there neither declares metadata
/// input_kind "causal_lm" nor exports lm_logits (another kind of model). Loads the archive once.
/// Throws attrib::Error naming the path when it cannot be loaded.
std::unique_ptr<CausalLmTarget> load_causal_lm(const std::string& path);

class CausalLmTarget : public ModelAdapter {
 public:
  /// Loads the causal LM at `path` (vocab, pad/unk/mask/eos ids from its metadata()); throws
  /// attrib::Error naming the path when it is not one.
  explicit CausalLmTarget(const std::string& path);
  /// `module`, loaded from `path`, with its parsed metadata() `meta` (null: read it).
  CausalLmTarget(torch::jit::Module module, nlohmann::json meta, const std::string& path);

  /// Greedy continuation of `prompt` (token ids): at most `max_new` tokens, stopping after eos.
  std::vector<int64_t> generate(const std::vector<int64_t>& prompt, int64_t max_new);

  /// The continuation to explain (at least one token) and its output space, "log_prob" (default)
  /// or "prob". Sets the number of classes to 1 + target.size().
  void set_target(std::vector<int64_t> target, const std::string& output = "log_prob");
  const std::vector<int64_t>& target() const { return target_; }
  int64_t eos_id() const { return eos_id_; }

  const ModelInfo& info() const override { return info_; }
  /// Prompts [B, P] (right-padded, mask [B, P]) -> [B, 1 + m]: each row's continuation placed
  /// right after its last prompt token and teacher-forced in one forward.
  at::Tensor forward(const at::Tensor& inputs, const at::Tensor& attention_mask) override;
  at::Tensor embed(const at::Tensor& input_ids) override;
  at::Tensor forward_from_embeddings(const at::Tensor& embeddings,
                                     const at::Tensor& attention_mask) override;
  void to(const at::Device& device) override;
  at::Device device() const override { return device_; }

 private:
  at::Tensor lm_logits(const at::Tensor& ids, const at::Tensor& mask);
  at::Tensor target_scores(const at::Tensor& logits, const at::Tensor& lengths) const;
  at::Tensor full_mask(const at::Tensor& lengths, int64_t width) const;
  at::Tensor lengths_of(const at::Tensor& mask) const;

  torch::jit::Module module_;
  std::string lm_method_ = "forward";  ///< (ids, mask) -> next-token logits [B, T, V]
  std::string lm_embeddings_method_ = "forward_from_embeddings";
  ModelInfo info_;
  std::vector<int64_t> target_;
  std::string output_ = "log_prob";
  int64_t eos_id_ = -1;
  at::Device device_ = at::kCPU;
};

}  // namespace attrib
