#pragma once
// Shared by the attention plugins (attention, attention_rollout, grad_x_attention,
// label_attention): head fusion, the explained query row, shape checks and padding masks
// (METHODS.md §3). Header-only and compiled into each of them; this folder has no CMakeLists.txt,
// so it is not a plugin itself.
//
// All maps are computed in float64 so that layer products do not accumulate float32 rounding;
// the returned token scores are float32 [B, T] with padding positions exactly 0.
#include <torch/script.h>

#include <string>
#include <vector>

#include "attrib/batch.h"
#include "attrib/error.h"
#include "attrib/model.h"

namespace attrib_plugins::attention {

/// The "head_fusion" parameter schema entry shared by the plugins (mean, as in the references);
/// a string literal, so that metadata literals can splice it in.
#define ATTRIB_ATTENTION_HEAD_FUSION_SCHEMA \
  R"json({"type": "string", "default": "mean", "enum": ["mean", "max", "min"], "description": "How the heads of one layer are combined: mean (Abnar & Zuidema, Inseq), max or min."})json"

/// The "query" parameter schema entry: which row o of the attention map is read.
#define ATTRIB_ATTENTION_QUERY_SCHEMA \
  R"json({"type": "string", "default": "mean", "enum": ["mean", "first"], "description": "Explained query row o: mean = the average of the rows of all real (unmasked) tokens, suited to mean-pooling classifiers such as the built-in transformer; first = position 0 ([CLS] in encoder classifiers)."})json"

/// Checks a text batch and returns its mask as float64 [B, T] on `device`.
inline at::Tensor token_mask(const attrib::Batch& batch, const char* method,
                             const at::Device& device) {
  ATTRIB_CHECK(batch.modality == attrib::Modality::kText, method,
               ": expected a text batch (token ids with an attention mask), got a dense one");
  ATTRIB_CHECK(batch.inputs.defined() && batch.inputs.dim() == 2, method,
               ": expected token ids [B, T], got ", batch.inputs.defined() ? batch.inputs.dim() : 0,
               " dimensions");
  ATTRIB_CHECK(
      batch.attention_mask.defined() && batch.attention_mask.sizes() == batch.inputs.sizes(),
      method, ": expected an attention mask of the ids' shape [", batch.inputs.size(0), ", ",
      batch.inputs.size(1), "]");
  return batch.attention_mask.to(device, at::kDouble).ne(0).to(at::kDouble);
}

/// Fuses the heads (dim 1) of `a` [B, H, ...] -> [B, ...] in float64.
inline at::Tensor fuse_heads(const at::Tensor& a, const std::string& how) {
  const at::Tensor d = a.to(at::kDouble);
  if (how == "mean") return d.mean(1);
  if (how == "max") return std::get<0>(d.max(1));
  if (how == "min") return std::get<0>(d.min(1));
  throw attrib::Error("head_fusion: expected mean, max or min, got \"" + how + "\"");
}

/// The query weights r0 [B, T] (float64): row o = 0, or the mean over real-token rows.
inline at::Tensor query_weights(const at::Tensor& mask, const std::string& query) {
  if (query == "first") {
    at::Tensor r = at::zeros_like(mask);
    if (r.size(1) > 0) r.select(1, 0).fill_(1.0);
    return r;
  }
  ATTRIB_CHECK(query == "mean", "query: expected mean or first, got \"", query, "\"");
  return mask / mask.sum(1, /*keepdim=*/true).clamp_min(1.0);
}

/// Checks per-layer attentions [B, H, T, T]; `method` and `source` name them in messages.
inline void check_attentions(const std::vector<at::Tensor>& attentions, int64_t b, int64_t t,
                             const char* method, const char* source) {
  ATTRIB_CHECK(!attentions.empty(), method, ": ", source,
               " returned no attention tensors, expected one [B, H, T, T] per layer");
  for (size_t l = 0; l < attentions.size(); ++l) {
    const at::Tensor& a = attentions[l];
    ATTRIB_CHECK(a.defined() && a.dim() == 4 && a.size(0) == b && a.size(2) == t && a.size(3) == t,
                 method, ": ", source, " attention ", l, ": expected shape [", b, ", H, ", t, ", ",
                 t, "], got ", a.defined() ? c10::str(a.sizes()) : std::string("undefined"));
  }
}

/// Zeroes padded query rows and key columns of a fused map `m` [B, T, T].
inline at::Tensor mask_map(const at::Tensor& m, const at::Tensor& mask) {
  return m * mask.unsqueeze(2) * mask.unsqueeze(1);
}

/// Resolves a layer index (negative counts from the end: -1 = last) among `n` layers.
inline int64_t resolve_layer(int64_t layer, int64_t n, const char* method, const char* param) {
  const int64_t l = layer < 0 ? n + layer : layer;
  ATTRIB_CHECK(l >= 0 && l < n, method, ": ", param, " = ", layer, ": expected a layer in [", -n,
               ", ", n - 1, "] (the model has ", n, " attention layers)");
  return l;
}

/// r [B, T] times the maps m [B, T, T]: the row vector r·m per example.
inline at::Tensor row_times(const at::Tensor& r, const at::Tensor& m) {
  return at::bmm(r.unsqueeze(1), m).squeeze(1);
}

/// Final token scores: float32 [B, T], padding exactly 0.
inline at::Tensor token_scores(const at::Tensor& s, const at::Tensor& mask) {
  return (s * mask).to(at::kFloat);
}

}  // namespace attrib_plugins::attention
