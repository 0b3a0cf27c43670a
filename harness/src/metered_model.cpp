#include "metered_model.h"

#include <chrono>

namespace attrib {

template <typename F>
auto MeteredModel::metered(const at::Tensor& batch, F&& call) -> decltype(call()) {
  const auto t0 = std::chrono::steady_clock::now();
  auto out = call();
  meter_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++meter_.calls;
  meter_.rows += batch.defined() && batch.dim() > 0 ? batch.size(0) : 0;
  return out;
}

at::Tensor MeteredModel::forward(const at::Tensor& inputs, const at::Tensor& attention_mask) {
  return metered(inputs, [&] { return inner_.forward(inputs, attention_mask); });
}

at::Tensor MeteredModel::forward_from_embeddings(const at::Tensor& embeddings,
                                                 const at::Tensor& attention_mask) {
  return metered(embeddings,
                 [&] { return inner_.forward_from_embeddings(embeddings, attention_mask); });
}

AttentionOutput MeteredModel::forward_with_attentions(const at::Tensor& input_ids,
                                                      const at::Tensor& attention_mask) {
  return metered(input_ids,
                 [&] { return inner_.forward_with_attentions(input_ids, attention_mask); });
}

AttentionOutput MeteredModel::forward_from_embeddings_with_attentions(
    const at::Tensor& embeddings, const at::Tensor& attention_mask) {
  return metered(embeddings, [&] {
    return inner_.forward_from_embeddings_with_attentions(embeddings, attention_mask);
  });
}

LabelAttentionOutput MeteredModel::label_attention(const at::Tensor& input_ids,
                                                   const at::Tensor& attention_mask) {
  return metered(input_ids, [&] { return inner_.label_attention(input_ids, attention_mask); });
}

}  // namespace attrib
