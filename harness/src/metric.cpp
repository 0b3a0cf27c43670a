#include "metric.h"

#include <algorithm>

#include "attrib/error.h"

namespace attrib {

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

at::Tensor batch_logits(ModelAdapter& model, const Batch& b, int64_t max_rows) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  for (int64_t s = 0; s < b.size(); s += max_rows) {
    const int64_t e = std::min(b.size(), s + max_rows);
    at::Tensor mask = b.attention_mask.defined() ? b.attention_mask.slice(0, s, e) : at::Tensor();
    parts.push_back(
        checked_logits(model.forward(b.inputs.slice(0, s, e), mask), model).to(at::kCPU));
  }
  return at::cat(parts);
}

}  // namespace attrib
