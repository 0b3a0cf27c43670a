// Deletion and insertion curves (Petsiuk et al. 2018, RISE): METRICS.md §1.1.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attrib/error.h"
#include "attrib/params.h"
#include "attrib/random.h"
#include "faithfulness/faithfulness.h"

namespace attrib {
namespace {

using nlohmann::json;

const char* kSchema = R"JSON({
  "target": {"type": "string", "default": "predicted", "enum": ["predicted", "gold", "explained"],
             "description": "class whose score is tracked: the model's prediction on the unperturbed input, the gold label, or the class the explanation explains"},
  "output": {"type": "string", "default": "probability", "enum": ["probability", "logit", "log_probability"]},
  "substrate": {"type": "string", "default": "auto",
                "enum": ["auto", "unk", "mask", "pad", "delete", "zero", "mean"],
                "description": "replacement of removed features; auto = unk for text, zero for dense. Text: replace by a special token or delete (positions shift); dense: zero or the example's mean"},
  "step_fraction": {"type": "number", "default": 0.05, "minimum": 0.000001, "maximum": 1,
                    "description": "features changed per step = max(1, ceil(step_fraction * n))"},
  "auc": {"type": "string", "default": "rise", "enum": ["rise", "trapezoid_fraction", "trapezoid_unit"],
          "description": "rise: K equal intervals on [0,1]; trapezoid_fraction: against the true fraction m_k/n; trapezoid_unit: unit spacing, not normalised"},
  "rank_by": {"type": "string", "default": "signed", "enum": ["signed", "abs"]},
  "tie_break": {"type": "string", "default": "random", "enum": ["random", "index"],
                "description": "order of tied scores: seeded random per example, or by position"}
})JSON";

// Stream id of the tie-break permutation, distinct from explainer streams.
constexpr uint64_t kTieStream = 0x7469652d627265ULL;

class CurveMetric : public Metric {
 public:
  CurveMetric(bool insertion, json params) : insertion_(insertion), p_(std::move(params)) {}

  json info() const override {
    json i = p_;
    i["curve"] = insertion_ ? "insertion" : "deletion";
    i["order"] = "most relevant first";
    i["endpoints"] = "both (unperturbed and fully perturbed points on the curve)";
    i["insertion_start"] = insertion_ ? "all features replaced by the substrate" : "";
    if (!insertion_) i.erase("insertion_start");
    if (!resolved_substrate_.empty()) i["substrate"] = resolved_substrate_;
    return i;
  }

  std::vector<double> score(const MetricInput& in) override {
    const Batch& b = in.batch;
    const bool text = b.modality == Modality::kText;
    std::string substrate = p_["substrate"];
    if (substrate == "auto") substrate = text ? "unk" : "zero";
    const bool text_substrate =
        substrate == "unk" || substrate == "mask" || substrate == "pad" || substrate == "delete";
    ATTRIB_CHECK(text == text_substrate, "metric ", name(), ": substrate '", substrate,
                 "' does not apply to ", text ? "text" : "dense", " inputs");
    resolved_substrate_ = substrate;
    const int64_t B = b.size();
    const at::Tensor scores = in.scores.to(at::kCPU, at::kDouble).contiguous();
    const at::Tensor inputs = b.inputs.to(at::kCPU);

    // Per example: the features in removal order, the step sizes, and the rows to evaluate.
    std::vector<std::vector<int64_t>> order(B);
    std::vector<std::vector<int64_t>> counts(B);  // m_k for k = 0..K
    for (int64_t i = 0; i < B; ++i) {
      std::vector<int64_t> feats;
      if (text) {
        const at::Tensor w = b.word_ids[i].to(at::kCPU).contiguous();
        const int64_t* wp = w.data_ptr<int64_t>();
        for (int64_t t = 0; t < w.size(0); ++t)
          if (wp[t] >= 0) feats.push_back(t);
      } else {
        feats.resize(scores.size(1));
        std::iota(feats.begin(), feats.end(), 0);
      }
      order[i] = rank(feats, scores[i], b.ids[i], in.seed);
      const int64_t n = static_cast<int64_t>(feats.size());
      if (n == 0) continue;
      const int64_t s = std::max<int64_t>(1, std::ceil(p_["step_fraction"].get<double>() * n));
      for (int64_t k = 0;; ++k) {
        counts[i].push_back(std::min(k * s, n));
        if (k * s >= n) break;
      }
    }

    // Build every perturbed row, then evaluate in chunks of at most max_rows.
    std::vector<at::Tensor> rows, masks;
    std::vector<int64_t> owner;
    for (int64_t i = 0; i < B; ++i)
      for (int64_t m : counts[i]) {
        auto [x, mask] = perturb(b, inputs, i, order[i], m, substrate, in.model.info());
        rows.push_back(x);
        if (mask.defined()) masks.push_back(mask);
        owner.push_back(i);
      }
    std::vector<double> values(rows.size());
    at::NoGradGuard no_grad;
    const at::Tensor base_logits = forward_rows(in, inputs, b.attention_mask);
    at::Tensor cls = target_classes(in, base_logits);
    for (size_t start = 0; start < rows.size(); start += in.max_rows) {
      const size_t end = std::min(rows.size(), start + static_cast<size_t>(in.max_rows));
      at::Tensor x = at::stack(std::vector<at::Tensor>(rows.begin() + start, rows.begin() + end));
      at::Tensor mask;
      if (text)
        mask = at::stack(std::vector<at::Tensor>(masks.begin() + start, masks.begin() + end));
      at::Tensor logits = in.model.forward(x.to(in.model.device()),
                                           text ? mask.to(in.model.device()) : at::Tensor());
      std::vector<int64_t> who(owner.begin() + start, owner.begin() + end);
      at::Tensor c = cls.index_select(0, at::tensor(who, at::kLong));
      at::Tensor v = output_score(logits.to(at::kCPU), c, p_["output"]).contiguous();
      std::copy(v.data_ptr<double>(), v.data_ptr<double>() + v.numel(), values.begin() + start);
    }

    std::vector<double> out(B, std::nan(""));
    size_t pos = 0;
    for (int64_t i = 0; i < B; ++i) {
      const size_t K1 = counts[i].size();
      if (K1 < 2) {
        pos += K1;
        continue;
      }
      out[i] =
          area(std::vector<double>(values.begin() + pos, values.begin() + pos + K1), counts[i]);
      pos += K1;
    }
    return out;
  }

 private:
  std::string name() const { return insertion_ ? "insertion" : "deletion"; }

  // Features sorted by decreasing key; ties by a seeded per-example permutation or by index.
  std::vector<int64_t> rank(std::vector<int64_t> feats, const at::Tensor& s, const std::string& id,
                            uint64_t seed) const {
    const bool abs = p_["rank_by"] == "abs";
    std::vector<double> key(feats.size()), tie(feats.size());
    const double* sp = s.data_ptr<double>();
    for (size_t j = 0; j < feats.size(); ++j) key[j] = abs ? std::fabs(sp[feats[j]]) : sp[feats[j]];
    if (p_["tie_break"] == "random") {
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

  // Example i with the first m features of `order` removed (deletion) or kept (insertion).
  std::pair<at::Tensor, at::Tensor> perturb(const Batch& b, const at::Tensor& inputs, int64_t i,
                                            const std::vector<int64_t>& order, int64_t m,
                                            const std::string& substrate,
                                            const ModelInfo& info) const {
    // Features in `changed` get the substrate: the first m for deletion, the rest for insertion.
    std::vector<int64_t> changed = insertion_
                                       ? std::vector<int64_t>(order.begin() + m, order.end())
                                       : std::vector<int64_t>(order.begin(), order.begin() + m);
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
      ATTRIB_CHECK(token >= 0, "metric ", name(), ": substrate '", substrate,
                   "' needs the model's ", substrate, " token id, but model '", info.name,
                   "' declares none");
      for (int64_t t : changed) idp[t] = token;
      return {ids, mask};
    }
    at::Tensor x = inputs[i].to(at::kFloat).clone();
    at::Tensor flat = x.view({-1});
    const double fill = substrate == "mean" ? x.mean().item<double>() : 0.0;
    if (!changed.empty()) flat.index_fill_(0, at::tensor(changed, at::kLong), fill);
    return {x, at::Tensor()};
  }

  // Logits of the unperturbed batch, in chunks of at most max_rows.
  at::Tensor forward_rows(const MetricInput& in, const at::Tensor& inputs,
                          const at::Tensor& mask) const {
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

  at::Tensor target_classes(const MetricInput& in, const at::Tensor& base_logits) const {
    const std::string t = p_["target"];
    if (t == "predicted") return base_logits.argmax(1);
    if (t == "gold") {
      at::Tensor g = in.batch.labels.to(at::kCPU);
      ATTRIB_CHECK((g >= 0).all().item<bool>(), "metric ", name(),
                   ": target 'gold' needs gold labels, but some examples have none");
      return g;
    }
    return in.targets.to(at::kCPU, at::kLong);
  }

  double area(const std::vector<double>& v, const std::vector<int64_t>& m) const {
    const std::string form = p_["auc"];
    const size_t K = v.size() - 1;
    if (form == "rise") {
      double s = std::accumulate(v.begin(), v.end(), 0.0) - (v.front() + v.back()) / 2;
      return s / static_cast<double>(K);
    }
    const double n = static_cast<double>(m.back());
    double s = 0;
    for (size_t k = 1; k <= K; ++k) {
      const double width = form == "trapezoid_unit" ? 1.0 : (m[k] - m[k - 1]) / n;
      s += width * (v[k] + v[k - 1]) / 2;
    }
    return s;
  }

  bool insertion_;
  json p_;
  std::string resolved_substrate_;
};

MetricSpec curve_spec(bool insertion) {
  MetricSpec s;
  s.name = insertion ? "insertion" : "deletion";
  s.suite = "faithfulness";
  s.description =
      insertion ? "Area under the insertion curve: features restored most-relevant-first into "
                  "a fully perturbed input (higher is better)"
                : "Area under the deletion curve: features removed most-relevant-first "
                  "(lower is better)";
  s.citation =
      "Petsiuk, Das & Saenko 2018, RISE: Randomized Input Sampling for Explanation of "
      "Black-box Models";
  s.direction = insertion ? +1 : -1;
  s.needs = {"model"};
  s.params = json::parse(kSchema);
  s.create = [insertion](const json& p) { return std::make_unique<CurveMetric>(insertion, p); };
  return s;
}

}  // namespace

std::vector<MetricSpec> faithfulness_metrics() { return {curve_spec(false), curve_spec(true)}; }

}  // namespace attrib
