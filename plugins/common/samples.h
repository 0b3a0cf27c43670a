#pragma once
// Shared by the sampling gradient plugins (smoothgrad, gradient_shap, integrated_gradients): random
// draws per example, and gradients at S points per example run in blocks of B rows (sample-major,
// as attrib::InputSpace expects). Header-only; see grouped.h.
#include <torch/script.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "attrib/batch.h"
#include "attrib/input_space.h"
#include "attrib/random.h"

namespace attrib_plugins {

/// Text: the real tokens (attention_mask = 1) as bool [B, T] on the CPU, the only positions that
/// get noise; dense: undefined.
inline at::Tensor real_tokens(const attrib::Batch& batch) {
  return batch.modality == attrib::Modality::kText ? batch.attention_mask.cpu().ne(0)
                                                   : at::Tensor();
}

/// Per-example draws stacked sample-major, [S, B, ...] with the shape and dtype of `like`
/// ([B, ...], CPU). Example i's block is draw(gen, xi, {S, xi's shape...}) with
/// gen = example_generator(seed, ids[i], stream), drawn on the CPU for that example alone, so no
/// value depends on the rest of the batch. `real` ([B, T] bool, or undefined for all positions):
/// example i draws for the rows real[i] only (xi = like[i][real[i]]), the others stay 0.
template <typename Draw>
at::Tensor draw_per_example(const std::vector<std::string>& ids, const at::Tensor& like, int64_t s,
                            uint64_t seed, uint64_t stream, const at::Tensor& real,
                            const Draw& draw) {
  std::vector<int64_t> shape = like.sizes().vec();
  shape.insert(shape.begin(), s);
  at::Tensor out = at::zeros(shape, like.options());
  for (int64_t i = 0; i < like.size(0); ++i) {
    at::Generator gen = attrib::example_generator(seed, ids[i], stream);
    const at::Tensor xi = real.defined() ? like[i].index({real[i]}) : like[i];
    std::vector<int64_t> one = xi.sizes().vec();
    one.insert(one.begin(), s);
    const at::Tensor d = draw(gen, xi, one);
    if (real.defined())
      out.select(1, i).index_put_({at::indexing::Slice(), real[i]}, d);
    else
      out.select(1, i).copy_(d);
  }
  return out;
}

/// Gradients of the targets at S points per example, in chunks of whole blocks of B rows (at most
/// max_rows rows unless B > max_rows; attrib::blocks_per_chunk). For each chunk of samples
/// [s0, s0 + r), points(s0, r) returns the rows [r, B, ...] and use(s0, rows, grad) receives them
/// with their gradient, both [r, B, ...].
template <typename Points, typename Use>
void gradient_blocks(const attrib::InputSpace& space, const at::Tensor& targets, int64_t s,
                     int64_t max_rows, const Points& points, const Use& use) {
  const int64_t per = attrib::blocks_per_chunk(max_rows, space.batch_size());
  for (int64_t s0 = 0; s0 < s; s0 += per) {
    const at::Tensor rows = points(s0, std::min(per, s - s0));
    use(s0, rows, space.gradient(rows.flatten(0, 1), targets).reshape(rows.sizes()));
  }
}

}  // namespace attrib_plugins
