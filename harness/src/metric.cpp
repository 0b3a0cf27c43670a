#include "metric.h"

#include "attrib/error.h"
#include "complexity/complexity.h"
#include "faithfulness/faithfulness.h"
#include "plausibility/plausibility.h"

namespace attrib {

const std::vector<MetricSpec>& metric_catalogue() {
  static const std::vector<MetricSpec> catalogue = [] {
    std::vector<MetricSpec> all;
    for (auto& m : faithfulness_metrics()) all.push_back(std::move(m));
    for (auto& m : plausibility_metrics()) all.push_back(std::move(m));
    for (auto& m : complexity_metrics()) all.push_back(std::move(m));
    return all;
  }();
  return catalogue;
}

const MetricSpec& find_metric(const std::string& name) {
  std::string known;
  for (const auto& m : metric_catalogue()) {
    if (m.name == name) return m;
    known += (known.empty() ? "" : ", ") + m.name;
  }
  throw Error("unknown metric '" + name + "' (available: " + known + ")");
}

const MetricProfile& find_profile(const MetricSpec& spec, const std::string& name) {
  std::string known;
  for (const auto& p : spec.profiles) {
    if (p.name == name) return p;
    known += (known.empty() ? "\"" : ", \"") + p.name + "\"";
  }
  throw Error("expected one of the profiles of metric '" + spec.name + "' (" +
              (known.empty() ? std::string("it has none") : known) + "), got \"" + name + "\"");
}

const at::Tensor& checked_logits(const at::Tensor& logits, const ModelAdapter& model) {
  ATTRIB_CHECK(logits.defined() && logits.dim() == 2, "model '", model.info().name,
               "': expected logits [rows, classes], got ",
               logits.defined() ? logits.sizes() : at::IntArrayRef{});
  const int64_t bad = logits.isfinite().logical_not().sum().item<int64_t>();
  ATTRIB_CHECK(bad == 0, "model '", model.info().name, "' returned ", bad,
               " non-finite logits (NaN or Inf) for a batch of ", logits.size(0), " rows");
  return logits;
}

at::Tensor output_score(const at::Tensor& logits, const at::Tensor& cls, const std::string& space) {
  at::Tensor values;
  if (space == "logit") {
    values = logits;
  } else if (space == "probability") {
    values = at::softmax(logits.to(at::kDouble), 1);
  } else if (space == "log_probability") {
    values = at::log_softmax(logits.to(at::kDouble), 1);
  } else {
    throw Error("output space '" + space + "': expected probability, logit or log_probability");
  }
  return values.gather(1, cls.view({-1, 1}).to(values.device())).view({-1}).to(at::kDouble);
}

}  // namespace attrib
