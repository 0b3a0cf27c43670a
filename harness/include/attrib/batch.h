#pragma once
// The data a model and a method exchange.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "attrib/export.h"

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
/// defined, is int64 [B, T, 2] with each token's [start, end) character offsets. With a subword
/// tokenizer a word spans several consecutive tokens sharing one word id; the harness evaluates
/// words: a word is perturbed as a whole and scored at its first token (see word_starts).
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

/// Text: bool [B, T], true at the first token of every word (word_ids >= 0 and different from the
/// previous token's). These positions stand for the words wherever features are counted, ranked
/// or compared; with word-level tokens they are exactly the positions with word_ids >= 0.
/// `word_ids`: int64 [B, T] as in Batch.
ATTRIB_SDK_API at::Tensor word_starts(const at::Tensor& word_ids);

/// Text: token scores [B, T] summed over the tokens of each word into the word's first token;
/// every other position (later subword tokens, special tokens, padding) is 0. Same dtype and
/// device as `scores`. `word_ids`: int64 [B, T] as in Batch (any device).
ATTRIB_SDK_API at::Tensor sum_to_word_starts(const at::Tensor& scores, const at::Tensor& word_ids);

/// Text: float64 [B, T], 1 / (number of tokens of the word) at each token of a word, 0 at special
/// tokens and padding. A perturbation method that assigns a word's value to every token of the
/// word multiplies by this so that summing a word's tokens gives the word's value once.
ATTRIB_SDK_API at::Tensor word_token_share(const at::Tensor& word_ids);

}  // namespace attrib
