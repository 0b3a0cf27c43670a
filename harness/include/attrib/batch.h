#pragma once
// The data a model and a method exchange.
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace attrib {

/// What kind of input a model takes.
enum class Modality {
  kDense = 0,  ///< a float tensor per example (tabular rows, images)
  kText = 1,   ///< token ids with an attention mask
};

/// A batch of B examples.
///
/// Dense: `inputs` is float [B, ...]; the other tensors are undefined.
/// Text: `inputs` is int64 token ids [B, T] padded on the right; `attention_mask` is int64 [B, T]
/// (1 for real tokens, 0 for padding); `word_ids` is int64 [B, T] (index of the word a token
/// belongs to, -1 for padding and special tokens, which are never perturbed); `offsets`, when
/// defined, is int64 [B, T, 2] with each token's [start, end) character offsets.
struct Batch {
  Modality modality = Modality::kDense;
  std::vector<std::string> ids;  ///< example ids; key the per-example random streams
  at::Tensor inputs;
  at::Tensor attention_mask;
  at::Tensor word_ids;
  at::Tensor offsets;
  at::Tensor labels;  ///< int64 [B] gold labels, -1 when unknown

  int64_t size() const { return static_cast<int64_t>(ids.size()); }
};

/// Human annotations at feature granularity (tokens for text, pixels for images, columns for
/// tabular data).
struct Annotations {
  at::Tensor mask;     ///< float [B, n_features], 1 where the feature is marked relevant
  at::Tensor present;  ///< bool [B], false for examples without any annotation (skipped, counted)
};

}  // namespace attrib
