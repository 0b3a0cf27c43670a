#include "attrib/input_space.h"

#include <torch/csrc/autograd/autograd.h>

#include <algorithm>

#include "attrib/error.h"

namespace attrib {

namespace {
const char* modality_name(Modality m) { return m == Modality::kText ? "text" : "dense"; }
}  // namespace

InputSpace::InputSpace(ModelAdapter& model, const Batch& batch) : model_(model), batch_(batch) {
  const ModelInfo& info = model.info();
  ATTRIB_CHECK(batch.modality == info.modality, "model '", info.name, "': expected a ",
               modality_name(info.modality), " batch, got a ", modality_name(batch.modality),
               " batch");
  ATTRIB_CHECK(batch.inputs.defined() && batch.inputs.size(0) == batch.size(),
               "batch: expected inputs with ", batch.size(), " rows (one per id)");
  if (batch.modality == Modality::kDense) {
    x_ = batch.inputs.to(at::kFloat).detach();
    return;
  }
  ATTRIB_CHECK(model.has(ATTRIB_CAP_EMBEDDINGS), "model '", info.name,
               "': gradient methods on text need capability 'embeddings' (embed + "
               "forward_from_embeddings), which this model does not offer");
  ATTRIB_CHECK(batch.attention_mask.defined(), "text batch: expected an attention_mask, got none");
  at::NoGradGuard no_grad;
  x_ = model.embed(batch.inputs).detach();
  is_embedding_ = true;
}

at::Tensor InputSpace::logits(const at::Tensor& rows) const {
  const int64_t b = batch_size();
  ATTRIB_CHECK(rows.dim() >= 1 && rows.size(0) % b == 0,
               "InputSpace::logits: expected a multiple of ", b, " rows, got ", rows.sizes());
  if (!is_embedding_) return model_.forward(rows, at::Tensor());
  return model_.forward_from_embeddings(rows, batch_.attention_mask.repeat({rows.size(0) / b, 1}));
}

at::Tensor InputSpace::gradient(const at::Tensor& rows, const at::Tensor& targets,
                                at::Tensor* values) const {
  ATTRIB_CHECK(model_.has(ATTRIB_CAP_INPUT_GRADIENT), "model '", model_.info().name,
               "': expected capability 'input_gradient', which this model does not offer");
  at::AutoGradMode grad_on(true);
  at::Tensor r = rows.detach().clone().requires_grad_(true);
  at::Tensor selected = select_targets(logits(r), targets);
  ATTRIB_CHECK(selected.requires_grad(), "model '", model_.info().name,
               "': expected logits differentiable w.r.t. the ",
               is_embedding_ ? "embeddings" : "input", ", got logits without a gradient path");
  // allow_unused: a logit that ignores the input has gradient zero, not an error.
  at::Tensor g = torch::autograd::grad({selected.sum()}, {r}, {}, false, false, true)[0];
  if (values != nullptr) *values = selected.detach();
  return g.defined() ? g : at::zeros_like(r);
}

at::Tensor InputSpace::baseline(const std::string& kind) const {
  if (kind == "zero") return at::zeros_like(x_);
  const bool special = kind == "pad" || kind == "mask" || kind == "unk";
  ATTRIB_CHECK(special, "baseline: expected one of \"zero\", \"pad\", \"mask\", \"unk\", got \"",
               kind, "\"");
  ATTRIB_CHECK(is_embedding_, "baseline \"", kind,
               "\": expected a text model (token baselines), got a dense model; use \"zero\"");
  const ModelInfo& info = model_.info();
  const int64_t id = kind == "pad" ? info.pad_id : kind == "mask" ? info.mask_id : info.unk_id;
  ATTRIB_CHECK(id >= 0, "baseline \"", kind, "\": model '", info.name, "' has no ", kind,
               " token (", kind, "_id = -1)");
  ATTRIB_CHECK(batch_.word_ids.defined(), "text batch: expected word_ids, got none");
  // Special tokens and padding keep their own embedding; only word tokens are replaced.
  at::Tensor ids = batch_.inputs.masked_fill(batch_.word_ids.to(batch_.inputs.device()).ge(0), id);
  at::NoGradGuard no_grad;
  return model_.embed(ids).detach();
}

at::Tensor select_targets(const at::Tensor& logits, const at::Tensor& targets) {
  ATTRIB_CHECK(logits.dim() == 2, "logits: expected [N, C], got ", logits.sizes());
  const int64_t n = logits.size(0), b = targets.numel();
  ATTRIB_CHECK(b > 0 && n % b == 0, "targets: expected a count dividing ", n, " rows, got ", b);
  at::Tensor t = targets.reshape({-1}).to(logits.device(), at::kLong);
  const int64_t lo = t.min().item<int64_t>(), hi = t.max().item<int64_t>();
  ATTRIB_CHECK(lo >= 0 && hi < logits.size(1), "targets: expected classes in [0, ", logits.size(1),
               "), got values in [", lo, ", ", hi, "]");
  return logits.gather(1, t.repeat({n / b}).unsqueeze(1)).squeeze(1);
}

int64_t blocks_per_chunk(int64_t max_rows, int64_t batch_size) {
  ATTRIB_CHECK(batch_size > 0, "blocks_per_chunk: expected batch size > 0, got ", batch_size);
  return std::max<int64_t>(1, max_rows / batch_size);
}

Batch slice_batch(const Batch& batch, int64_t begin, int64_t end) {
  ATTRIB_CHECK(0 <= begin && begin <= end && end <= batch.size(),
               "slice_batch: expected 0 <= ", begin, " <= ", end, " <= ", batch.size());
  auto cut = [&](const at::Tensor& t) { return t.defined() ? t.slice(0, begin, end) : t; };
  Batch out;
  out.modality = batch.modality;
  out.ids.assign(batch.ids.begin() + begin, batch.ids.begin() + end);
  out.inputs = cut(batch.inputs);
  out.attention_mask = cut(batch.attention_mask);
  out.word_ids = cut(batch.word_ids);
  out.offsets = cut(batch.offsets);
  out.labels = cut(batch.labels);
  return out;
}

Explanation explain_in_groups(
    const Batch& batch, const at::Tensor& targets, int64_t group_size,
    const std::function<Explanation(const Batch&, const at::Tensor&)>& fn) {
  const int64_t b = batch.size();
  if (b <= group_size || b == 0) return fn(batch, targets);
  ATTRIB_CHECK(group_size > 0, "explain_in_groups: expected group size > 0, got ", group_size);
  std::vector<Explanation> parts;
  for (int64_t s = 0; s < b; s += group_size) {
    const int64_t e = std::min(b, s + group_size);
    parts.push_back(fn(slice_batch(batch, s, e), targets.slice(0, s, e)));
  }
  Explanation out;
  std::vector<at::Tensor> attributions;
  for (const auto& p : parts) {
    attributions.push_back(p.attributions);
    out.forward_rows += p.forward_rows;
    out.backward_rows += p.backward_rows;
  }
  out.attributions = at::cat(attributions, 0);
  out.info = parts.front().info;
  for (const auto& entry : parts.front().extras) {
    std::vector<at::Tensor> pieces;
    for (const auto& p : parts) pieces.push_back(p.extras.at(entry.first));
    out.extras[entry.first] = at::cat(pieces, 0);
  }
  return out;
}

}  // namespace attrib
