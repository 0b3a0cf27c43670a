#include "generation/causal_lm.h"

#include <torch/csrc/jit/runtime/graph_executor.h>

#include <nlohmann/json.hpp>

#include "attrib/error.h"
#include "config.h"

namespace attrib {

using nlohmann::json;

namespace {

torch::jit::Module load_module(const std::string& path) {
  try {
    torch::jit::Module m = torch::jit::load(path, at::kCPU);
    m.eval();
    return m;
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw Error(path + ": not a loadable TorchScript archive (" + what.substr(0, what.find('\n')) +
                ")");
  }
}

json metadata_of(torch::jit::Module& m, const std::string& path) {
  if (!m.find_method("metadata")) return json::object();
  const c10::IValue v = m.get_method("metadata")({});
  ATTRIB_CHECK(v.isString(), path, ": metadata() must return a JSON string, got ", v.tagKind());
  json meta = parse_json_text(v.toStringRef(), path + " metadata()");
  ATTRIB_CHECK(meta.is_object(), path, ": metadata() is not a JSON object");
  return meta;
}

int64_t id_field(const json& meta, const char* key) {
  if (!meta.contains(key) || meta[key].is_null()) return -1;
  ATTRIB_CHECK(meta[key].is_number_integer(), "metadata ", key, ": expected an integer, got ",
               meta[key].dump());
  return meta[key].get<int64_t>();
}

}  // namespace

std::unique_ptr<CausalLmTarget> load_causal_lm(const std::string& path) {
  torch::jit::Module m = load_module(path);
  json meta = metadata_of(m, path);
  if (meta.value("input_kind", std::string()) != "causal_lm" && !m.find_method("lm_logits"))
    return nullptr;
  return std::make_unique<CausalLmTarget>(std::move(m), std::move(meta), path);
}

CausalLmTarget::CausalLmTarget(const std::string& path)
    : CausalLmTarget(load_module(path), json(), path) {}

CausalLmTarget::CausalLmTarget(torch::jit::Module module, json meta, const std::string& path)
    : module_(std::move(module)) {
  if (meta.is_null()) meta = metadata_of(module_, path);
  // A model whose forward serves another purpose (the built-in causal_lm plugin's: the answers'
  // log-probabilities) exports the contract's methods as lm_logits / lm_forward_from_embeddings.
  if (module_.find_method("lm_logits")) {
    lm_method_ = "lm_logits";
    lm_embeddings_method_ = "lm_forward_from_embeddings";
  } else {
    ATTRIB_CHECK(meta.value("input_kind", std::string()) == "causal_lm", path,
                 ": metadata input_kind: expected \"causal_lm\" (or an lm_logits method)");
  }
  info_.name = path;
  info_.modality = Modality::kText;
  info_.pad_id = id_field(meta, "pad_id");
  info_.unk_id = id_field(meta, "unk_id");
  info_.mask_id = id_field(meta, "mask_id");
  eos_id_ = id_field(meta, "eos_id");
  if (meta.contains("vocab")) {
    ATTRIB_CHECK(meta["vocab"].is_array(), path, ": metadata vocab: expected a list of tokens");
    for (const json& t : meta["vocab"]) {
      ATTRIB_CHECK(t.is_string(), path, ": metadata vocab: expected strings, got ", t.dump());
      info_.vocab.push_back(t.get<std::string>());
    }
    meta.erase("vocab");
  }
  info_.capabilities = ATTRIB_CAP_FORWARD;
  if (module_.find_method("embed") && module_.find_method(lm_embeddings_method_))
    info_.capabilities |= ATTRIB_CAP_EMBEDDINGS | ATTRIB_CAP_INPUT_GRADIENT;
  info_.metadata = meta;
  // Frozen weights: attributions differentiate w.r.t. the inputs only.
  for (at::Tensor p : module_.parameters()) p.requires_grad_(false);
}

std::vector<int64_t> CausalLmTarget::generate(const std::vector<int64_t>& prompt, int64_t max_new) {
  ATTRIB_CHECK(!prompt.empty(), "generate: the prompt has no tokens");
  at::NoGradGuard no_grad;
  std::vector<int64_t> ids = prompt, out;
  for (int64_t k = 0; k < max_new; ++k) {
    const at::Tensor x = at::tensor(ids, at::kLong).unsqueeze(0).to(device_);
    const at::Tensor logits = lm_logits(x, at::ones_like(x));
    const int64_t next = logits[0][-1].argmax().item<int64_t>();
    out.push_back(next);
    ids.push_back(next);
    if (next == eos_id_) break;
  }
  return out;
}

void CausalLmTarget::set_target(std::vector<int64_t> target, const std::string& output) {
  ATTRIB_CHECK(!target.empty(), "the target continuation has no tokens");
  ATTRIB_CHECK(output == "log_prob" || output == "prob",
               "target output: expected log_prob or prob, got ", output);
  target_ = std::move(target);
  output_ = output;
  info_.num_classes = 1 + static_cast<int64_t>(target_.size());
  info_.class_names = {"sequence"};
  for (size_t j = 0; j < target_.size(); ++j) {
    const int64_t id = target_[j];
    const bool known = id >= 0 && id < static_cast<int64_t>(info_.vocab.size());
    info_.class_names.push_back("token " + std::to_string(j + 1) + ": " +
                                (known ? info_.vocab[id] : std::to_string(id)));
  }
}

at::Tensor CausalLmTarget::lm_logits(const at::Tensor& ids, const at::Tensor& mask) {
  torch::jit::GraphOptimizerEnabledGuard plain(false);  // see torchscript_model.cpp
  const at::Tensor logits = module_.get_method(lm_method_)({ids, mask}).toTensor();
  ATTRIB_CHECK(logits.dim() == 3 && logits.size(0) == ids.size(0) && logits.size(1) == ids.size(1),
               "causal LM forward: expected next-token logits [B, T, V] = [", ids.size(0), ", ",
               ids.size(1), ", V], got ", logits.sizes());
  return logits;
}

at::Tensor CausalLmTarget::lengths_of(const at::Tensor& mask) const {
  const at::Tensor lengths = mask.to(at::kLong).sum(1);
  ATTRIB_CHECK(lengths.min().item<int64_t>() >= 1,
               "causal LM: every prompt needs at least one token (a bos token, say)");
  return lengths;
}

at::Tensor CausalLmTarget::full_mask(const at::Tensor& lengths, int64_t width) const {
  const int64_t m = static_cast<int64_t>(target_.size());
  return (at::arange(width, lengths.options()).unsqueeze(0) < (lengths + m).unsqueeze(1))
      .to(at::kLong);
}

// Log-probability of target token j of row i, read at position L_i + j - 1 (the logits there
// predict the token at L_i + j).
at::Tensor CausalLmTarget::target_scores(const at::Tensor& logits,
                                         const at::Tensor& lengths) const {
  const int64_t B = logits.size(0), m = static_cast<int64_t>(target_.size());
  const at::Tensor pos = lengths.unsqueeze(1) + at::arange(m, lengths.options()).unsqueeze(0) - 1;
  const at::Tensor rows = logits.gather(1, pos.unsqueeze(2).expand({B, m, logits.size(2)}));
  const at::Tensor tgt = at::tensor(target_, at::kLong).to(logits.device()).expand({B, m});
  const at::Tensor lp = rows.log_softmax(2).gather(2, tgt.unsqueeze(2)).squeeze(2);
  const at::Tensor scores = at::cat({lp.sum(1, /*keepdim=*/true), lp}, 1);
  return output_ == "prob" ? scores.exp() : scores;
}

at::Tensor CausalLmTarget::forward(const at::Tensor& inputs, const at::Tensor& attention_mask) {
  ATTRIB_CHECK(!target_.empty(), "causal LM: no target continuation set");
  const int64_t B = inputs.size(0), P = inputs.size(1), m = static_cast<int64_t>(target_.size());
  const at::Tensor mask = attention_mask.defined() ? attention_mask : at::ones_like(inputs);
  const at::Tensor lengths = lengths_of(mask);
  const int64_t pad = std::max<int64_t>(info_.pad_id, 0);
  at::Tensor ids = at::full({B, P + m}, pad, inputs.options().dtype(at::kLong));
  ids.slice(1, 0, P).copy_(
      at::where(mask.to(at::kBool), inputs.to(at::kLong), at::full_like(inputs, pad, at::kLong)));
  const at::Tensor pos = lengths.unsqueeze(1) + at::arange(m, lengths.options()).unsqueeze(0);
  ids.scatter_(1, pos, at::tensor(target_, at::kLong).to(ids.device()).expand({B, m}));
  return target_scores(lm_logits(ids, full_mask(lengths, P + m)), lengths);
}

at::Tensor CausalLmTarget::embed(const at::Tensor& input_ids) {
  torch::jit::GraphOptimizerEnabledGuard plain(false);
  return module_.get_method("embed")({input_ids}).toTensor();
}

at::Tensor CausalLmTarget::forward_from_embeddings(const at::Tensor& embeddings,
                                                   const at::Tensor& attention_mask) {
  ATTRIB_CHECK(!target_.empty(), "causal LM: no target continuation set");
  const int64_t B = embeddings.size(0), P = embeddings.size(1), d = embeddings.size(2);
  const int64_t m = static_cast<int64_t>(target_.size());
  const at::Tensor lengths = lengths_of(attention_mask);
  const at::Tensor tgt = at::tensor(target_, at::kLong).to(embeddings.device());
  const at::Tensor tail = embed(tgt.unsqueeze(0)).to(embeddings.dtype()).expand({B, m, d});
  at::Tensor full = at::cat({embeddings, tail}, 1);
  // The continuation goes right after each prompt's last token (rows may be padded).
  const at::Tensor pos = lengths.unsqueeze(1) + at::arange(m, lengths.options()).unsqueeze(0);
  full = full.scatter(1, pos.unsqueeze(2).expand({B, m, d}), tail);
  torch::jit::GraphOptimizerEnabledGuard plain(false);
  const at::Tensor logits =
      module_.get_method(lm_embeddings_method_)({full, full_mask(lengths, P + m)}).toTensor();
  return target_scores(logits, lengths);
}

void CausalLmTarget::to(const at::Device& device) {
  module_.to(device);
  device_ = device;
}

}  // namespace attrib
