#include "faithfulness/perturb.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attrib/error.h"
#include "attrib/random.h"

namespace attrib {
namespace perturb {

namespace {
const char* kPerturbationSchema = R"JSON({
  "target": {"type": "string", "default": "predicted", "enum": ["predicted", "gold", "explained"],
             "description": "class whose score is tracked: the model's prediction on the unperturbed input, the gold label, or the class the explanation explains"},
  "output": {"type": "string", "default": "probability", "enum": ["probability", "logit", "log_probability"]},
  "substrate": {"type": "string", "default": "auto",
                "enum": ["auto", "unk", "mask", "pad", "delete", "zero", "mean"],
                "description": "replacement of removed features; auto = unk for text, zero for dense. Text: replace by a special token or delete (positions shift); dense: zero or the example's mean"},
  "rank_by": {"type": "string", "default": "signed", "enum": ["signed", "abs"]},
  "tie_break": {"type": "string", "default": "random", "enum": ["random", "index"],
                "description": "order of tied scores: seeded random per example, or by position"}
})JSON";
}  // namespace

nlohmann::json params_schema(const char* extra) {
  nlohmann::json schema = nlohmann::json::parse(kPerturbationSchema);
  schema.update(nlohmann::json::parse(extra));
  return schema;
}

std::string resolve_substrate(const std::string& substrate, bool text, const std::string& metric) {
  std::string s = substrate;
  if (s == "auto") s = text ? "unk" : "zero";
  const bool text_substrate = s == "unk" || s == "mask" || s == "pad" || s == "delete";
  ATTRIB_CHECK(text == text_substrate, "metric ", metric, ": substrate '", s,
               "' does not apply to ", text ? "text" : "dense", " inputs");
  return s;
}

std::vector<int64_t> features(const Batch& b, int64_t n_scores, int64_t i) {
  std::vector<int64_t> feats;
  if (b.modality == Modality::kText) {
    const at::Tensor w = b.word_ids[i].to(at::kCPU).contiguous();
    const int64_t* wp = w.data_ptr<int64_t>();
    for (int64_t t = 0; t < w.size(0); ++t)
      if (wp[t] >= 0) feats.push_back(t);
  } else {
    feats.resize(n_scores);
    std::iota(feats.begin(), feats.end(), 0);
  }
  return feats;
}

std::vector<int64_t> rank(const std::vector<int64_t>& feats, const at::Tensor& s,
                          const std::string& id, uint64_t seed, bool abs,
                          const std::string& tie_break) {
  std::vector<double> key(feats.size()), tie(feats.size());
  const double* sp = s.data_ptr<double>();
  for (size_t j = 0; j < feats.size(); ++j) key[j] = abs ? std::fabs(sp[feats[j]]) : sp[feats[j]];
  if (tie_break == "random") {
    at::Generator g = example_generator(seed, id, kTieStream);
    at::Tensor r = at::rand({static_cast<int64_t>(feats.size())}, g, at::kDouble).contiguous();
    std::copy(r.data_ptr<double>(), r.data_ptr<double>() + r.numel(), tie.begin());
  } else {
    for (size_t j = 0; j < feats.size(); ++j) tie[j] = static_cast<double>(j);
  }
  std::vector<size_t> idx(feats.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t c) {
    // NaN scores go last.
    const bool na = std::isnan(key[a]), nc = std::isnan(key[c]);
    if (na != nc) return nc;
    if (!na && key[a] != key[c]) return key[a] > key[c];
    return tie[a] < tie[c];
  });
  std::vector<int64_t> out;
  for (size_t j : idx) out.push_back(feats[j]);
  return out;
}

std::pair<at::Tensor, at::Tensor> replace(const Batch& b, const at::Tensor& inputs, int64_t i,
                                          const std::vector<int64_t>& changed,
                                          const std::string& substrate, const ModelInfo& info,
                                          const std::string& metric) {
  if (b.modality == Modality::kText) {
    at::Tensor ids = inputs[i].clone();
    at::Tensor mask = b.attention_mask[i].to(at::kCPU).clone();
    auto idp = ids.accessor<int64_t, 1>();
    if (substrate == "delete") {
      std::vector<char> drop(ids.size(0), 0);
      for (int64_t t : changed) drop[t] = 1;
      at::Tensor out_ids = at::full_like(ids, info.pad_id >= 0 ? info.pad_id : 0);
      at::Tensor out_mask = at::zeros_like(mask);
      auto mp = mask.accessor<int64_t, 1>();
      int64_t w = 0;
      for (int64_t t = 0; t < ids.size(0); ++t)
        if (!drop[t] && mp[t] != 0) {
          out_ids[w] = idp[t];
          out_mask[w] = 1;
          ++w;
        }
      return {out_ids, out_mask};
    }
    const int64_t token = substrate == "unk"    ? info.unk_id
                          : substrate == "mask" ? info.mask_id
                                                : info.pad_id;
    ATTRIB_CHECK(token >= 0, "metric ", metric, ": substrate '", substrate, "' needs the model's ",
                 substrate, " token id, but model '", info.name, "' declares none");
    for (int64_t t : changed) idp[t] = token;
    return {ids, mask};
  }
  at::Tensor x = inputs[i].to(at::kFloat).clone();
  at::Tensor flat = x.view({-1});
  const double fill = substrate == "mean" ? x.mean().item<double>() : 0.0;
  if (!changed.empty()) flat.index_fill_(0, at::tensor(changed, at::kLong), fill);
  return {x, at::Tensor()};
}

at::Tensor forward_rows(const MetricInput& in, const at::Tensor& inputs, const at::Tensor& mask) {
  std::vector<at::Tensor> parts;
  const int64_t end = inputs.size(0);
  for (int64_t s = 0; s < end; s += in.max_rows) {
    const int64_t e = std::min(end, s + in.max_rows);
    at::Tensor x = inputs.slice(0, s, e).to(in.model.device());
    at::Tensor m = mask.defined() ? mask.slice(0, s, e).to(in.model.device()) : at::Tensor();
    parts.push_back(in.model.forward(x, m).to(at::kCPU));
  }
  return at::cat(parts);
}

at::Tensor target_classes(const MetricInput& in, const at::Tensor& base_logits,
                          const std::string& target, const std::string& metric) {
  if (target == "predicted") return base_logits.argmax(1);
  if (target == "gold") {
    at::Tensor g = in.batch.labels.to(at::kCPU);
    ATTRIB_CHECK((g >= 0).all().item<bool>(), "metric ", metric,
                 ": target 'gold' needs gold labels, but some examples have none");
    return g;
  }
  return in.targets.to(at::kCPU, at::kLong);
}

std::vector<double> evaluate(const MetricInput& in, const std::vector<at::Tensor>& rows,
                             const std::vector<at::Tensor>& masks,
                             const std::vector<int64_t>& owner, const at::Tensor& cls,
                             const std::string& output) {
  const bool text = in.batch.modality == Modality::kText;
  std::vector<double> values(rows.size());
  for (size_t start = 0; start < rows.size(); start += in.max_rows) {
    const size_t end = std::min(rows.size(), start + static_cast<size_t>(in.max_rows));
    at::Tensor x = at::stack(std::vector<at::Tensor>(rows.begin() + start, rows.begin() + end));
    at::Tensor mask;
    if (text) mask = at::stack(std::vector<at::Tensor>(masks.begin() + start, masks.begin() + end));
    at::Tensor logits =
        in.model.forward(x.to(in.model.device()), text ? mask.to(in.model.device()) : at::Tensor());
    std::vector<int64_t> who(owner.begin() + start, owner.begin() + end);
    at::Tensor c = cls.index_select(0, at::tensor(who, at::kLong));
    at::Tensor v = output_score(logits.to(at::kCPU), c, output).contiguous();
    std::copy(v.data_ptr<double>(), v.data_ptr<double>() + v.numel(), values.begin() + start);
  }
  return values;
}

}  // namespace perturb
}  // namespace attrib
