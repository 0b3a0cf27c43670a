#pragma once
// The tensor a gradient method attributes to, whatever the modality: the dense input itself, or
// for text the embeddings from ModelAdapter::embed. Shared by every gradient-based method.
#include <ATen/ATen.h>

#include <functional>
#include <string>

#include "attrib/batch.h"
#include "attrib/export.h"
#include "attrib/method.h"
#include "attrib/model.h"

namespace attrib {

class ATTRIB_SDK_API InputSpace {
 public:
  /// Throws attrib::Error when `model` cannot give gradients for this batch's modality.
  InputSpace(ModelAdapter& model, const Batch& batch);

  /// The attributed tensor [B, ...], float, detached (dense inputs or embeddings).
  const at::Tensor& x() const { return x_; }
  bool is_embedding() const { return is_embedding_; }
  int64_t batch_size() const { return x_.size(0); }

  /// Logits for `rows` = [R*B, ...], R blocks of B rows in step-major order (row r*B + i belongs
  /// to example i). Extra inputs (the attention mask) are repeated to match.
  at::Tensor logits(const at::Tensor& rows) const;

  /// Gradient of sum_i f_{t_i}(rows_i) w.r.t. `rows` ([R*B, ...], step-major), with
  /// targets [B] repeated per block. `rows` need not require grad. Optionally returns the
  /// selected logits [R*B] in *values.
  at::Tensor gradient(const at::Tensor& rows, const at::Tensor& targets,
                      at::Tensor* values = nullptr) const;

  /// A baseline in this space: "zero", or for text "pad" / "mask" / "unk" (that token's embedding
  /// at every non-special position; special tokens and padding keep their own embedding).
  at::Tensor baseline(const std::string& kind) const;

 private:
  ModelAdapter& model_;
  const Batch& batch_;
  at::Tensor x_;
  bool is_embedding_ = false;
};

/// Gathers logits[i, targets[i]] -> [N]; targets [B] are tiled when N is a multiple of B.
ATTRIB_SDK_API at::Tensor select_targets(const at::Tensor& logits, const at::Tensor& targets);

/// Number of examples' worth of blocks that fit in `max_rows`: max(1, max_rows / batch_size).
ATTRIB_SDK_API int64_t blocks_per_chunk(int64_t max_rows, int64_t batch_size);

/// Examples [begin, end) of `batch`: tensors sliced along dim 0, ids copied.
ATTRIB_SDK_API Batch slice_batch(const Batch& batch, int64_t begin, int64_t end);

/// Explains `batch` in consecutive groups of at most `group_size` examples with `fn` and joins the
/// results (attributions and extras concatenated along dim 0, row counts added, info of the first
/// group). Lets a method whose forwards hold whole blocks of B rows respect max_rows < B.
ATTRIB_SDK_API Explanation
explain_in_groups(const Batch& batch, const at::Tensor& targets, int64_t group_size,
                  const std::function<Explanation(const Batch&, const at::Tensor&)>& fn);

}  // namespace attrib
